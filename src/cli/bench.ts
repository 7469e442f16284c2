// fcnn bench: the same runners as the bench/ scripts (npm run bench:*), from the command line, and
// for the scaling benchmark a PNG of speedup and parallel efficiency against the worker count.
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import type { Row } from '../../bench/common.js';
import type { ChartSpec } from '../diagnose/render.js';
import { UsageError, choice, integer, option } from './options.js';
import { type Io, Output } from './output.js';

const BENCHES = ['gemm', 'train', 'scaling'] as const;
type Bench = (typeof BENCHES)[number];

interface BenchFlags {
  maxWorkers?: number;
  epochs?: number;
  steps?: number;
  repeats?: number;
  plot?: string;
  json?: boolean;
}

export function registerBench(program: Command, io: Io): void {
  program
    .command('bench')
    .description('benchmarks: gemm (SGEMM GFLOP/s vs the FMA peak), train (epoch throughput), scaling (speedup per worker count)')
    .argument('<which>', BENCHES.join(' | '), choice('bench', BENCHES))
    .addOption(option('--max-workers <n>', 'scaling: largest worker count', integer('--max-workers', 1, 1024), `${availableParallelism()} cores`))
    .addOption(option('--epochs <n>', 'train: epochs timed', integer('--epochs', 1), 10))
    .addOption(option('--steps <n>', 'scaling: steps timed per configuration (default: each configuration’s own)', integer('--steps', 1)))
    .addOption(option('--repeats <n>', 'gemm and scaling: timings whose median is reported', integer('--repeats', 1), 5))
    .addOption(option('--plot <file>', 'scaling: draw speedup and efficiency vs workers (with the ideal line) as a PNG', String))
    .option('--json', 'one JSON object per line on stdout')
    .action(async (which: Bench, flags: BenchFlags) => runBench(which, flags, io));
}

async function runBench(which: Bench, flags: BenchFlags, io: Io): Promise<void> {
  const out = new Output(flags.json === true, io);
  if (flags.plot && which !== 'scaling') throw new UsageError('--plot draws the scaling curve: use it with fcnn bench scaling');
  for (const [flag, value, bench] of [['--max-workers', flags.maxWorkers, 'scaling'], ['--steps', flags.steps, 'scaling'], ['--epochs', flags.epochs, 'train']] as const)
    if (value !== undefined && which !== bench) throw new UsageError(`${flag} applies to fcnn bench ${bench}`);
  if (flags.repeats !== undefined && which === 'train') throw new UsageError('--repeats applies to fcnn bench gemm and scaling');
  const json = flags.json === true;
  const print = (line: string) => io.stdout.write(`${line}\n`);
  switch (which) {
    case 'gemm': {
      const { runGemmBench } = await import('../../bench/gemm.js');
      const { report } = await import('../../bench/common.js');
      const result = await runGemmBench({ json, repeats: flags.repeats ?? 5 });
      out.event('gemm-machine', { machine: result.machine });
      out.line(result.machine);
      for (const [isa, gflops] of Object.entries(result.peaks)) {
        out.event('gemm-peak', { isa, gflops });
        out.line(`FMA peak ${isa}: ${gflops!.toFixed(1)} GFLOP/s (one core)`);
      }
      report(result.rows, json, print);
      return;
    }
    case 'train': {
      const { runTrainBench } = await import('../../bench/train.js');
      await runTrainBench({ json, epochs: flags.epochs, out: print });
      return;
    }
    case 'scaling': {
      const { SYNC_TITLE, describePair, runScalingBench } = await import('../../bench/scaling.js');
      const { report } = await import('../../bench/common.js');
      const repeats = flags.repeats ?? 5;
      const result = await runScalingBench({ json, repeats, maxWorkers: flags.maxWorkers ?? availableParallelism(), steps: flags.steps });
      out.event('scaling-machine', { machine: result.machine, isa: result.isa, peakGflops: result.peakGflops, pair: result.pair });
      out.line(result.machine);
      out.line(`FMA peak ${result.isa}: ${result.peakGflops.toFixed(1)} GFLOP/s (one core); medians of ${repeats} repeats`);
      out.line(describePair(result));
      out.line(`\n${SYNC_TITLE}`);
      report(result.sync, json, print);
      out.line('\nTraining throughput (timedSteps < epochSteps: a partial epoch, extrapolated):');
      report(result.rows, json, print);
      if (flags.plot) {
        const { renderChart } = await import('../diagnose/render.js');
        await writeFile(flags.plot, (await renderChart(scalingChart(result.rows))).png);
        out.note(`wrote ${flags.plot}`);
      }
    }
  }
}

/**
 * Speedup with the ideal y = x line beside parallel efficiency, both against the worker count, one
 * line per benchmarked configuration (network, batch and, beside fp32, the precision). Workers 0 (the
 * serial engine) is left out.
 */
export function scalingChart(rows: Row[]): ChartSpec {
  const points = rows
    .filter((r) => Number(r.workers) > 0)
    .map((r) => ({ config: `${r.net} batch ${r.batch}${r.precision && r.precision !== 'fp32' ? ` ${r.precision}` : ''}`, workers: Number(r.workers), speedup: Number(r.speedup), efficiency: Number(r.efficiency) }));
  const color = { field: 'config', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 400 } } as const;
  const maxWorkers = Math.max(1, ...points.map((p) => p.workers));
  const ideal = [{ workers: 1, speedup: 1 }, { workers: maxWorkers, speedup: maxWorkers }];
  const x = { field: 'workers', type: 'quantitative', title: 'workers', axis: { tickMinStep: 1, format: 'd' } } as const;
  return {
    title: 'Data-parallel scaling',
    hconcat: [
      {
        title: 'Speedup over one worker',
        width: 320,
        height: 240,
        layer: [
          { data: { values: ideal }, mark: { type: 'line', strokeDash: [6, 4], color: '#999' }, encoding: { x, y: { field: 'speedup', type: 'quantitative' } } },
          {
            data: { values: ideal.slice(1) },
            mark: { type: 'text', text: 'ideal', align: 'right', dx: -6, dy: -8, color: '#777' },
            encoding: { x, y: { field: 'speedup', type: 'quantitative' } },
          },
          { data: { values: points }, mark: { type: 'line', point: true }, encoding: { x, y: { field: 'speedup', type: 'quantitative', title: 'speedup' }, color } },
        ],
      },
      {
        title: 'Parallel efficiency (speedup / workers)',
        width: 320,
        height: 240,
        layer: [
          { data: { values: [{ efficiency: 1 }] }, mark: { type: 'rule', strokeDash: [6, 4], color: '#999' }, encoding: { y: { field: 'efficiency', type: 'quantitative' } } },
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
