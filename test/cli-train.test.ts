// fcnn train end to end, as a child process whose output is a pipe: the JSON event stream, the
// plain summary lines, and the seed preset whose diagnostics must name its too-wide init.
import { describe, expect, it } from 'vitest';
import { run } from '../src/cli/program.js';
import { jsonLines, runCli } from './helpers/cli.js';

const EPOCH_FIELDS = ['event', 'epoch', 'loss', 'trainAccuracy', 'testAccuracy', 'seconds', 'samplesPerSec'];
const DONE_FIELDS = ['event', 'testAccuracy', 'epochs', 'seconds', 'workers'];

function expectFraction(v: unknown): void {
  expect(typeof v).toBe('number');
  expect(v as number).toBeGreaterThanOrEqual(0);
  expect(v as number).toBeLessThanOrEqual(1);
}

describe('fcnn train --json', () => {
  it('prints only JSON lines: epoch and diagnostics events, then done', async () => {
    const r = await runCli(['train', '--json', '--limit', '2000', '--epochs', '3', '--workers', '0', '--batch-size', '100']);
    expect(r.code).toBe(0);
    const events = jsonLines(r.stdout);
    expect(events.map((e) => e.event)).toEqual(['epoch', 'diagnostics', 'epoch', 'epoch', 'diagnostics', 'done']);

    const epochs = events.filter((e) => e.event === 'epoch');
    epochs.forEach((e, i) => {
      for (const field of EPOCH_FIELDS) expect(e).toHaveProperty(field);
      expect(e.epoch).toBe(i + 1);
      expect(Number.isFinite(e.loss)).toBe(true);
      expectFraction(e.trainAccuracy);
      expectFraction(e.testAccuracy);
      expect(e.seconds as number).toBeGreaterThan(0);
      // 2000 samples per epoch: samples/s and seconds describe the same epoch.
      expect((e.samplesPerSec as number) * (e.seconds as number)).toBeCloseTo(2000, 3);
    });
    // Learning happens: the recommended configuration beats chance by far after three epochs.
    expect(epochs[2].testAccuracy as number).toBeGreaterThan(0.8);

    const done = events[events.length - 1];
    for (const field of DONE_FIELDS) expect(done).toHaveProperty(field);
    expect(done.testAccuracy).toBe(epochs[2].testAccuracy);
    expect(done.epochs).toBe(3);
    expect(done.workers).toBe(0);

    const [first, last] = events.filter((e) => e.event === 'diagnostics') as { epoch: number; samples: number; layers: Record<string, unknown>[] }[];
    expect([first.epoch, last.epoch]).toEqual([1, 3]);
    expect(first.samples).toBe(512);
    expect(first.layers.map((l) => [l.layer, l.activation, l.inputs, l.outputs])).toEqual([
      [1, 'relu', 784, 128],
      [2, 'softmax', 128, 10],
    ]);
    for (const key of ['preActivation', 'activationStats', 'deadFraction', 'saturatedFraction', 'gradNorm', 'updateRatio', 'weightStd'])
      expect(first.layers[0]).toHaveProperty(key);
  });

  it('--diagnose examines every epoch', async () => {
    const r = await runCli(['train', '--json', '--diagnose', '--limit', '600', '--epochs', '3', '--workers', '0']);
    expect(r.code).toBe(0);
    const epochs = jsonLines(r.stdout)
      .filter((e) => e.event === 'diagnostics')
      .map((e) => e.epoch);
    expect(epochs).toEqual([1, 2, 3]);
  });
});

describe('fcnn train --preset recommended', () => {
  it('is what npm start runs: 98% on MNIST, and its own diagnostics find nothing to fix', async () => {
    const r = await runCli(['train', '--preset', 'recommended', '--json']);
    expect(r.code).toBe(0);
    const events = jsonLines(r.stdout);
    const done = events[events.length - 1];
    expect(done.testAccuracy as number).toBeGreaterThanOrEqual(0.98);
    const diagnostics = events.filter((e) => e.event === 'diagnostics');
    expect(diagnostics.map((e) => e.epoch)).toEqual([1, done.epochs]);
    for (const e of diagnostics) expect(e.warnings).toEqual([]);
  });
});

describe('fcnn train --preset seed', () => {
  it('trains the original configuration with finite losses and flags its too-wide init', async () => {
    // Exactly as a user would type it: default workers (all cores, the data-parallel engine).
    const r = await runCli(['train', '--preset', 'seed', '--epochs', '5', '--json']);
    expect(r.code).toBe(0);
    const events = jsonLines(r.stdout);
    const epochs = events.filter((e) => e.event === 'epoch');
    expect(epochs).toHaveLength(5);
    for (const e of epochs) {
      expect(Number.isFinite(e.loss)).toBe(true);
      expect(Number.isFinite(e.testLoss)).toBe(true);
    }
    // The preset: the first 42000 training images split 31500/10500, full-batch (one step per epoch).
    expect(r.stderr).toMatch(/train: .*31500 samples/);
    expect(r.stderr).toMatch(/validation: .*10500 samples/);
    const warnings = events.filter((e) => e.event === 'diagnostics').flatMap((e) => e.warnings as string[]);
    // U(−0.5, 0.5) has std 0.5/√3 = 0.289; He's for fan-in 784 is √(2/784) = 0.0505: 5.7× too wide.
    expect(warnings).toContainEqual(expect.stringMatching(/^layer 1: weights' std 0\.29 is 5\.7× He's 0\.05\d* for fan-in 784/));
    const done = events[events.length - 1];
    expect(done.event).toBe('done');
    expect(done.workers as number).toBeGreaterThanOrEqual(1);
  });
});

describe('fcnn train without --json, output not a terminal', () => {
  it('prints one summary line per epoch and no progress bar', async () => {
    const r = await runCli(['train', '--limit', '1000', '--epochs', '2', '--workers', '0']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('epoch'))).toEqual([
      expect.stringMatching(/^epoch 1\/2 {2}loss \d+\.\d{4} {2}train \d+\.\d\d% {2}test \d+\.\d\d% {2}\d+\.\d s {2}[\d.]+k? samples\/s$/),
      expect.stringMatching(/^epoch 2\/2 {2}loss /),
    ]);
    expect(r.stdout).toMatch(/^done: test accuracy \d+\.\d\d% after 2 epochs/m);
    expect(r.stdout).toMatch(/^diagnostics after epoch 1 /m);
    // Neither stream carries the bar's carriage returns or escape sequences.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no carriage return or terminal escape, the progress line's, may reach a pipe
    expect(r.stdout + r.stderr).not.toMatch(/[\r\x1b]/);
  });
});

describe('fcnn train on a terminal', () => {
  it('draws a progress bar on stderr, redrawn in place, and keeps stdout to the summary lines', async () => {
    let stdout = '';
    let stderr = '';
    const code = await run(['train', '--limit', '3000', '--epochs', '2', '--batch-size', '10', '--workers', '0'], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s), isTTY: true, columns: 100 },
    });
    expect(code).toBe(0);
    const draws = stderr.split('\r\x1b[2K').filter((d) => d.startsWith('epoch'));
    // 300 steps per epoch, redrawn at most every 100 ms: far fewer draws than steps, the last at 300/300.
    expect(draws.length).toBeGreaterThanOrEqual(2);
    expect(draws.length).toBeLessThan(600);
    for (const d of draws) {
      expect(d).toMatch(/^epoch [12]\/2 [█░]+ \d+\/300 {2}[\d.]+k? samples\/s {2}loss \d+\.\d{4} {2}ETA (\d+s|—)$/);
      expect(d.length).toBeLessThan(100);
    }
    expect(draws.filter((d) => d.includes(' 300/300 '))).toHaveLength(2);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no carriage return or terminal escape, the progress line's, may reach a pipe
    expect(stdout).not.toMatch(/[\r\x1b]/);
    expect(stdout.split('\n').filter((l) => l.startsWith('epoch'))).toHaveLength(2);
  });
});
