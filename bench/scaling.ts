// Data-parallel scaling on MNIST: samples/s for W = 1 … N workers, speedup over one worker,
// parallel efficiency, the per-step synchronization overhead, the epoch time against the ideal
// of W cores at their FMA peak, and a fresh engine's first (cold) epoch against its steady state: `npm run bench:scaling [-- --json] [--repeats N]
// [--max-workers N] [--steps N]`. Also measures what a step's synchronization costs on its own:
// Piscina's per-task dispatch (an empty pool.run) against the engine's barrier step, the FMA peak of
// W threads at once, and at the start and the end how a pair of threads sits on the cores (cores.ts).
// A configuration may list precisions: each worker count then runs in each, in alternation (bf16
// where the CPU has AVX512-BF16), and its rows carry their precision.
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Dataset } from '../src/data/dataset.js';
import { loadMnist } from '../src/data/mnist.js';
import { splitDataset } from '../src/data/split.js';
import { type Isa, native } from '../src/native.js';
import type { Precision } from '../src/nn/dense.js';
import { createModel } from '../src/nn/model.js';
import { sharedFloats } from '../src/util/shared-memory.js';
import { resolveOptimizer, updateRule } from '../src/optim/optimizer.js';
import type { Engine, EngineSetup } from '../src/train/engine.js';
import { DataParallelEngine, type ParallelTiming } from '../src/train/parallel/engine.js';
import { createPool } from '../src/train/parallel/pool.js';
import { SerialEngine, identity } from '../src/train/serial.js';
import { Random } from '../src/util/random.js';
import { type BenchOptions, gemmFlopsPerSample, machineDescription, median, parseBenchArgs, report, type Row } from './common.js';
import { measurePeak } from './gemm.js';
import { concurrentPeakGflops, lineRoundTripNanos } from './cores.js';

export interface ScalingConfig {
  layers: number[];
  /** Samples per step, or 'full' for the whole training set. */
  batch: number | 'full';
  data: 'mnist' | 'user';
  /** Steps timed per repeat (default: one epoch); fewer than an epoch is a partial epoch, extrapolated. */
  steps?: number;
  /** The products' precisions to time (default fp32 only); bf16 is left out on CPUs without AVX512-BF16. */
  precisions?: Precision[];
}

export const SCALING_CONFIGS: ScalingConfig[] = [
  { layers: [784, 128, 10], batch: 128, data: 'mnist', precisions: ['fp32', 'bf16'] },
  { layers: [784, 128, 10], batch: 512, data: 'mnist' },
  { layers: [784, 1024, 1024, 10], batch: 256, data: 'mnist', steps: 80 },
  { layers: [784, 128, 10], batch: 'full', data: 'user', steps: 8 },
];

export interface ScalingOptions extends BenchOptions {
  maxWorkers: number;
  /** Overrides every configuration's timed steps. */
  steps?: number;
  configs?: ScalingConfig[];
}

export interface ScalingRow extends Row {
  bench: 'scaling';
  net: string;
  batch: number | string;
  precision: Precision;
  workers: number;
  samplesPerSec: number;
  speedup: number;
  efficiency: number;
  syncMicros: number;
  epochSeconds: number;
  idealSeconds: number;
  /** The same steps run first on the fresh engine (extrapolated like epochSeconds), and its ratio to the steady state. */
  coldEpochSeconds: number;
  coldRatio: number;
  /** Per step, the slowest worker's gather + forward + backward, sum over the slots, and update. */
  gradientMicros: number;
  reduceMicros: number;
  updateMicros: number;
  /** Steps timed per repeat, and steps in an epoch: fewer means a partial epoch, extrapolated. */
  timedSteps: number;
  epochSteps: number;
}

export interface SyncRow extends Row {
  bench: 'scaling-sync';
  workers: number;
  /** Round trip of an empty Piscina task (pool.run), one at a time. */
  dispatchMicros: number;
  /** Round trip of W empty Piscina tasks run together. */
  dispatchAllMicros: number;
  /** An engine step whose shards are one sample of a 1→2 network: the workers' synchronization only. */
  barrierStepMicros: number;
  /** FMA GFLOP/s per thread with W threads running the loop at once (W × this is what W workers can have). */
  fmaGflopsPerThread: number;
}

/** How two threads sit on the cores: their cache-line round trip, and the FMA peak each gets while both run it. */
export interface PairProbe {
  roundTripNanos: number;
  pairFmaGflops: number;
}

export interface ScalingResult {
  machine: string;
  isa: string;
  peakGflops: number;
  /** The pair probe before and after the rest. */
  pair: { start: PairProbe; end: PairProbe };
  sync: SyncRow[];
  rows: ScalingRow[];
}

export async function runScalingBench(opts: ScalingOptions): Promise<ScalingResult> {
  const isa = native.isa();
  const peakGflops = measurePeak(isa);
  const pairStart = await probePair(isa);
  const workerCounts = Array.from({ length: opts.maxWorkers }, (_, i) => i + 1);
  const sync: SyncRow[] = [];
  for (const workers of workerCounts) sync.push(await measureSync(isa, workers, opts.repeats));

  const mnist = await loadMnist();
  const user = splitDataset(mnist.train, { valSplit: 0.25, limit: 42000 }).train;
  const rows: ScalingRow[] = [];
  for (const config of opts.configs ?? SCALING_CONFIGS) {
    rows.push(...(await measureConfig(config, config.data === 'mnist' ? mnist.train : user, workerCounts, peakGflops, opts)));
  }
  const pair = { start: pairStart, end: await probePair(isa) };
  return { machine: await machineDescription(), isa, peakGflops, pair, sync, rows };
}

/** The pair probes as one line of the human output. */
export function describePair({ pair }: ScalingResult): string {
  const probe = (p: PairProbe) => `cache-line round trip ${p.roundTripNanos.toFixed(0)} ns, FMA ${p.pairFmaGflops.toFixed(0)} GFLOP/s each`;
  return `Two threads at once: ${probe(pair.start)} before the runs; ${probe(pair.end)} after`;
}

async function probePair(isa: Isa): Promise<PairProbe> {
  return { roundTripNanos: await lineRoundTripNanos(), pairFmaGflops: await concurrentPeakGflops(isa, 2) };
}

/** Piscina's dispatch against the engine's barrier step, in microseconds (medians), and the concurrent FMA peak. */
async function measureSync(isa: Isa, workers: number, repeats: number): Promise<SyncRow> {
  const pool = createPool(workers);
  const one = await perCall(() => pool.run({ kind: 'ping' }), 2000, repeats);
  const all = await perCall(() => Promise.all(Array.from({ length: workers }, () => pool.run({ kind: 'ping' }))), 1000, repeats);
  await pool.destroy();

  // An epoch of SYNC_STEPS steps of one row per worker, which the workers run on their own: per step,
  // the wait for each other's published layer and two barriers.
  const count = SYNC_STEPS * workers;
  const images = new Uint8Array(count);
  const labels = new Uint8Array(count);
  const data = new Dataset({ images, labels, count, width: 1, classes: 2, source: 'empty' });
  const engine = await DataParallelEngine.create(setupFor(createModel({ layers: [1, 2] }), data, workers), workers);
  const plan = { steps: SYNC_STEPS, lr: new Float64Array(SYNC_STEPS).fill(1e-3), stopOnNonFinite: false };
  const epoch = await perCall(() => engine.epoch(plan, () => {}), 5, repeats);
  await engine.close();
  return {
    bench: 'scaling-sync',
    workers,
    dispatchMicros: one * 1e6,
    dispatchAllMicros: all * 1e6,
    barrierStepMicros: (epoch / SYNC_STEPS) * 1e6,
    fmaGflopsPerThread: await concurrentPeakGflops(isa, workers),
  };
}

const SYNC_STEPS = 2000;

export const SYNC_TITLE = 'Synchronization, microseconds per round trip, and the FMA peak per thread of W threads at once:';

/** Seconds per call of an async fn: median over repeats of `calls` sequential calls, after a warm-up. */
async function perCall(fn: () => Promise<unknown>, calls: number, repeats: number): Promise<number> {
  for (let i = 0; i < calls / 10; i++) await fn();
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) await fn();
    samples.push((performance.now() - start) / 1000 / calls);
  }
  return median(samples);
}

function setupFor(model: ReturnType<typeof createModel>, data: Dataset, batchSize: number): EngineSetup {
  const optimizer = resolveOptimizer('momentum');
  const order = identity(data.count);
  new Random(1).shuffle(order);
  return {
    model,
    data,
    order,
    batchSize,
    optimizer,
    optimizerState: Array.from({ length: updateRule(optimizer).stateSlabs }, () => sharedFloats(model.layout.paramCount)),
    precision: 'fp32',
  };
}

/**
 * A fresh engine first runs the timed steps once (the cold pass, timed on its own: what a user's
 * first epoch pays), then steps for at least this long in all (and at least WARMUP_STEPS) before the
 * steady state is timed: the first steps touch every buffer, and V8 compiles the workers' hot code
 * on background threads, which take cores from the workers while every core has one.
 */
const WARMUP_SECONDS = 1.5;
const WARMUP_STEPS = 3;

interface Pass {
  seconds: number;
  /** The same steps as the first thing the fresh engine ran. */
  coldSeconds: number;
  /** The parallel engine's phase totals over the timed steps (null for the serial engine). */
  timing: ParallelTiming | null;
}

/**
 * Rows for workers 0 (the serial engine, for reference: what one worker costs over no pool at all)
 * and each count in `workerCounts`. The repeats go round the worker counts, so that a noisy moment
 * on a shared machine hits every count alike; each row reports the median pass.
 */
async function measureConfig(config: ScalingConfig, data: Dataset, workerCounts: number[], peakGflops: number, opts: ScalingOptions): Promise<ScalingRow[]> {
  const batch = config.batch === 'full' ? data.count : config.batch;
  const epochSteps = Math.ceil(data.count / batch);
  const timedSteps = opts.steps ?? config.steps ?? epochSteps;
  const precisions = (config.precisions ?? ['fp32']).filter((p) => p === 'fp32' || native.bf16Kernel() === 'avx512bf16');
  const variants = [0, ...workerCounts].flatMap((workers) => precisions.map((precision) => ({ workers, precision })));
  const passes = variants.map((): Pass[] => []);
  for (let r = 0; r < opts.repeats; r++) for (let i = 0; i < variants.length; i++) passes[i].push(await timePass(config, data, batch, variants[i], timedSteps));

  const flopsPerSample = gemmFlopsPerSample(config.layers);
  const rows = variants.map(({ workers, precision }, i): ScalingRow => {
    const samples = samplesOf(data.count, batch, timedSteps);
    const samplesPerSec = samples / median(passes[i].map((p) => p.seconds));
    // Per-step means over every timed step; the serial engine has no breakdown (zeros).
    const perStep = (field: keyof ParallelTiming) => {
      let total = 0;
      let steps = 0;
      for (const { timing } of passes[i]) {
        total += timing ? timing[field] : 0;
        steps += timing ? timing.steps : 1;
      }
      return (total / steps) * 1e6;
    };
    const gradientMicros = perStep('gradientSeconds');
    const reduceMicros = perStep('reduceSeconds');
    const updateMicros = perStep('updateSeconds');
    return {
      bench: 'scaling',
      net: config.layers.join('-'),
      batch: config.batch,
      precision,
      workers,
      samplesPerSec,
      speedup: 1,
      efficiency: 1,
      syncMicros: perStep('wallSeconds') - gradientMicros - reduceMicros - updateMicros,
      epochSeconds: data.count / samplesPerSec,
      idealSeconds: (flopsPerSample * data.count) / (Math.max(1, workers) * peakGflops * 1e9),
      coldEpochSeconds: (data.count / samples) * median(passes[i].map((p) => p.coldSeconds)),
      coldRatio: median(passes[i].map((p) => p.coldSeconds / p.seconds)),
      gradientMicros,
      reduceMicros,
      updateMicros,
      timedSteps,
      epochSteps,
    };
  });
  // Each repeat times every count back to back: the speedup is the median of the repeats' ratios,
  // each measured over the same few seconds of a shared machine (its speed drifts between repeats).
  // The speedup is over one worker in the same precision.
  rows.forEach((row, i) => {
    const one = variants.findIndex((v) => v.workers === 1 && v.precision === row.precision);
    row.speedup = median(passes[i].map((p, r) => passes[one][r].seconds / p.seconds));
    row.efficiency = row.workers === 0 ? row.speedup : row.speedup / row.workers;
  });
  return rows;
}

/** Step s of a run that goes round the epoch's batches. */
function batchStart(count: number, batch: number, s: number): number {
  return (s % Math.ceil(count / batch)) * batch;
}

/** Samples in the first `steps` steps of such a run. */
function samplesOf(count: number, batch: number, steps: number): number {
  let samples = 0;
  for (let s = 0; s < steps; s++) samples += Math.min(batch, count - batchStart(count, batch, s));
  return samples;
}

/** Times `timedSteps` consecutive steps on a fresh engine (0 workers: the serial engine). */
async function timePass(
  config: ScalingConfig,
  data: Dataset,
  batch: number,
  { workers, precision }: { workers: number; precision: Precision },
  timedSteps: number,
): Promise<Pass> {
  const setup = { ...setupFor(createModel({ layers: config.layers }, { seed: 1 }), data, batch), precision };
  const parallel = workers > 0 ? await DataParallelEngine.create(setup, workers) : null;
  const engine: Engine = parallel ?? new SerialEngine(setup);
  try {
    const epochSteps = Math.ceil(data.count / batch);
    const lr = new Float64Array(epochSteps).fill(1e-3);
    // Runs of more steps than an epoch go round the epoch's batches.
    const run = async (steps: number) => {
      for (let done = 0; done < steps; done += epochSteps)
        await engine.epoch({ steps: Math.min(epochSteps, steps - done), lr, stopOnNonFinite: false }, () => {});
    };
    const warm = performance.now();
    await run(timedSteps);
    const coldSeconds = (performance.now() - warm) / 1000;
    const chunk = Math.max(WARMUP_STEPS, Math.min(epochSteps, 64));
    while (performance.now() - warm < WARMUP_SECONDS * 1000) await run(chunk);
    const before = parallel && { ...parallel.timing };
    const start = performance.now();
    await run(timedSteps);
    const seconds = (performance.now() - start) / 1000;
    if (!parallel || !before) return { seconds, coldSeconds, timing: null };
    const t = parallel.timing;
    return {
      seconds,
      coldSeconds,
      timing: {
        steps: t.steps - before.steps,
        wallSeconds: t.wallSeconds - before.wallSeconds,
        gradientSeconds: t.gradientSeconds - before.gradientSeconds,
        reduceSeconds: t.reduceSeconds - before.reduceSeconds,
        updateSeconds: t.updateSeconds - before.updateSeconds,
      },
    };
  } finally {
    await engine.close();
  }
}

function parseScalingArgs(argv: string[] = process.argv.slice(2)): ScalingOptions & { plot?: string } {
  const base = parseBenchArgs(argv);
  const value = (flag: string): number | undefined => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const n = Number(argv[i + 1]);
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`${flag} must be a positive integer, got ${argv[i + 1]}`);
    return n;
  };
  const plot = argv.indexOf('--plot');
  return { ...base, maxWorkers: value('--max-workers') ?? availableParallelism(), steps: value('--steps'), plot: plot < 0 ? undefined : argv[plot + 1] };
}

async function main(): Promise<void> {
  const opts = parseScalingArgs();
  const result = await runScalingBench(opts);
  if (opts.json) {
    const { machine, isa, peakGflops, pair } = result;
    console.log(JSON.stringify({ bench: 'scaling-machine', machine, isa, peakGflops, pair }));
  } else {
    console.log(result.machine);
    console.log(`FMA peak ${result.isa}: ${result.peakGflops.toFixed(1)} GFLOP/s (one core); medians of ${opts.repeats} repeats`);
    console.log(describePair(result));
    console.log(`\n${SYNC_TITLE}`);
  }
  report(result.sync, opts.json);
  if (!opts.json) console.log('\nTraining throughput (timedSteps < epochSteps: a partial epoch, extrapolated):');
  report(result.rows, opts.json);
  if (opts.plot) {
    // Vega and resvg load only when a plot is asked for.
    const { writeScalingPlot } = await import('./plot.js');
    await writeScalingPlot(opts.plot, result.rows);
    if (!opts.json) console.log(`\nwrote ${opts.plot}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
