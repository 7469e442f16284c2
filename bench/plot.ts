// The scaling curve as a chart: what bench:scaling --plot FILE draws from its rows.
import { writeFile } from 'node:fs/promises';
import { type ChartSpec, renderChart } from '../src/diagnose/render.js';
import type { Row } from './common.js';

/** Draws the rows' scaling chart into `path` as a PNG. */
export async function writeScalingPlot(path: string, rows: Row[]): Promise<void> {
  await writeFile(path, (await renderChart(scalingChart(rows))).png);
}

/**
 * Speedup with the ideal y = x line beside parallel efficiency, both against the worker count, one
 * line per benchmarked configuration (network, batch and, beside fp32, the precision). Workers 0 (the
 * serial engine) is left out.
 */
export function scalingChart(rows: Row[]): ChartSpec {
  const points = rows
    .filter((r) => Number(r.workers) > 0)
    .map((r) => ({
      config: `${r.net} batch ${r.batch}${r.precision && r.precision !== 'fp32' ? ` ${r.precision}` : ''}`,
      workers: Number(r.workers),
      speedup: Number(r.speedup),
      efficiency: Number(r.efficiency),
    }));
  const color = { field: 'config', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 400 } } as const;
  const maxWorkers = Math.max(1, ...points.map((p) => p.workers));
  const ideal = [
    { workers: 1, speedup: 1 },
    { workers: maxWorkers, speedup: maxWorkers },
  ];
  const x = { field: 'workers', type: 'quantitative', title: 'workers', axis: { tickMinStep: 1, format: 'd' } } as const;
  return {
    title: 'Data-parallel scaling',
    hconcat: [
      {
        title: 'Speedup over one worker',
        width: 320,
        height: 240,
        layer: [
          {
            data: { values: ideal },
            mark: { type: 'line', strokeDash: [6, 4], color: '#999' },
            encoding: { x, y: { field: 'speedup', type: 'quantitative' } },
          },
          {
            data: { values: ideal.slice(1) },
            mark: { type: 'text', text: 'ideal', align: 'right', dx: -6, dy: -8, color: '#777' },
            encoding: { x, y: { field: 'speedup', type: 'quantitative' } },
          },
          {
            data: { values: points },
            mark: { type: 'line', point: true },
            encoding: { x, y: { field: 'speedup', type: 'quantitative', title: 'speedup' }, color },
          },
        ],
      },
      {
        title: 'Parallel efficiency (speedup / workers)',
        width: 320,
        height: 240,
        layer: [
          {
            data: { values: [{ efficiency: 1 }] },
            mark: { type: 'rule', strokeDash: [6, 4], color: '#999' },
            encoding: { y: { field: 'efficiency', type: 'quantitative' } },
          },
          {
            data: { values: points },
            mark: { type: 'line', point: true },
            encoding: { x, y: { field: 'efficiency', type: 'quantitative', title: 'efficiency', axis: { format: '.0%' }, scale: { domain: [0, 1.1] } }, color },
          },
        ],
      },
    ],
  } as ChartSpec;
}
