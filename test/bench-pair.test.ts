// bench:pair: its options, and one short run of this build against itself through the command, which
// loads the engine by the module paths another checkout's build must have.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parsePairArgs } from '../bench/pair.js';

const ROOT = join(import.meta.dirname, '..');

describe('bench:pair', () => {
  it('defaults to two workers, fp32 on both sides and the three nets of bench:scaling', () => {
    const options = parsePairArgs(['--against', '../other']);
    expect(options).toMatchObject({ against: '../other', workers: 2, runs: 9, rounds: 15, precisions: ['fp32', 'fp32'], json: false });
    expect(options.configs.map((c) => `${c.layers.join('-')}@${c.batch}`)).toEqual(['784-128-10@128', '784-128-10@512', '784-1024-1024-10@256']);
    expect(parsePairArgs(['--against', '.', '--precision', 'fp32/bf16']).precisions).toEqual(['fp32', 'bf16']);
  });

  it('refuses options that make no sense, naming them', () => {
    expect(() => parsePairArgs([])).toThrow(/--against/);
    expect(() => parsePairArgs(['--against', '.', '--precision', 'fp16'])).toThrow(/--precision .* got fp16/);
    expect(() => parsePairArgs(['--against', '.', '--precision', 'fp32/bf16/fp32'])).toThrow(/--precision/);
    expect(() => parsePairArgs(['--against', '.', '--nets', '784-128-10@128,784-64-10@128'])).toThrow(/--nets: 784-64-10@128 is not one of/);
    expect(() => parsePairArgs(['--against', '.', '--runs', '0'])).toThrow(/--runs must be a positive integer, got 0/);
  });

  it('times this build against itself and prints a ratio per run and a summary', async () => {
    const args = ['dist/bench/pair.js', '--against', '.', '--workers', '1', '--runs', '1', '--rounds', '1', '--nets', '784-128-10@512', '--json'];
    const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: ROOT });
    const [run, summary] = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(run).toMatchObject({ bench: 'pair', net: '784-128-10', batch: 512, run: 1 });
    expect(run.stepMicrosA).toBeGreaterThan(0);
    expect(run.ratio).toBeCloseTo(run.stepMicrosB / run.stepMicrosA, 12);
    expect(summary).toMatchObject({ bench: 'pair', net: '784-128-10', batch: 512, runs: 1, rounds: 1, medianRatio: run.ratio });
  }, 60_000);
});
