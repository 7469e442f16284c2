// bench:scaling --plot: speedup and efficiency against the worker count, as a PNG.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scalingChart } from '../bench/plot.js';
import { renderChart } from '../src/diagnose/render.js';
import { pngSize } from './helpers/cli.js';

describe('the scaling plot', () => {
  it('draws speedup with the ideal line and efficiency against workers, as a PNG', async () => {
    const rows = [128, 512].flatMap((batch) =>
      [0, 1, 2, 3, 4].map((workers) => ({
        bench: 'scaling',
        net: '784-128-10',
        batch,
        workers,
        speedup: Math.max(1, workers) * 0.9 ** workers,
        efficiency: 0.9 ** workers,
      })),
    );
    const { svg, png } = await renderChart(scalingChart(rows));
    for (const text of [
      'Speedup over one worker',
      'Parallel efficiency',
      'workers',
      'speedup',
      'efficiency',
      'ideal',
      '784-128-10 batch 128',
      '784-128-10 batch 512',
    ])
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
