// fcnn bench: the bench/ runners behind the command line, and the scaling plot.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import { scalingChart } from '../src/cli/bench.js';
import { renderChart } from '../src/diagnose/render.js';
import { jsonLines, pngSize, runCli, runInProcess } from './helpers/cli.js';

describe('fcnn bench', () => {
  it('train --json: one row per epoch and precision from bench/train.ts, nothing else on stdout', async () => {
    const r = await runCli(['bench', 'train', '--epochs', '1', '--json']);
    expect(r.code).toBe(0);
    const rows = jsonLines(r.stdout);
    // bf16 rows where the CPU has AVX512-BF16.
    expect(rows.map((row) => row.precision)).toEqual(native.bf16Kernel() === 'avx512bf16' ? ['fp32', 'bf16'] : ['fp32']);
    for (const row of rows) {
      expect(row).toMatchObject({ bench: 'train', net: '784-128-10', epoch: 1 });
      expect(row.samplesPerSec as number).toBeGreaterThan(0);
      expect(row.testAccuracy as number).toBeGreaterThan(0.8);
    }
  });

  it.each([
    [['bench', 'gemm', '--plot', 'x.png'], /--plot draws the scaling curve: use it with fcnn bench scaling/],
    [['bench', 'train', '--max-workers', '2'], /--max-workers applies to fcnn bench scaling/],
    [['bench', 'gemm', '--epochs', '2'], /--epochs applies to fcnn bench train/],
    [['bench', 'train', '--repeats', '2'], /--repeats applies to fcnn bench gemm and scaling/],
    [['bench', 'matmul'], /bench must be one of gemm, train, scaling, got "matmul"/],
    [['bench', 'scaling', '--max-workers', '0'], /--max-workers must be an integer from 1 to 1024/],
  ])('%j is refused', async (args, message) => {
    const r = await runInProcess(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('the scaling plot', () => {
  it('draws speedup with the ideal line and efficiency against workers, as a PNG', async () => {
    const rows = [128, 512].flatMap((batch) =>
      [0, 1, 2, 3, 4].map((workers) => ({ bench: 'scaling', net: '784-128-10', batch, workers, speedup: Math.max(1, workers) * 0.9 ** workers, efficiency: 0.9 ** workers })),
    );
    const { svg, png } = await renderChart(scalingChart(rows));
    for (const text of ['Speedup over one worker', 'Parallel efficiency', 'workers', 'speedup', 'efficiency', 'ideal', '784-128-10 batch 128', '784-128-10 batch 512'])
      expect(svg).toContain(text);
    const dir = await mkdtemp(join(tmpdir(), 'fcnn-plot-'));
    try {
      await writeFile(join(dir, 'scaling.png'), png);
      const { width, height } = await pngSize(join(dir, 'scaling.png'));
      expect(width).toBeGreaterThan(1000);
      expect(height).toBeGreaterThan(400);
      expect((await readFile(join(dir, 'scaling.png'))).length).toBeGreaterThan(10_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
