// Data-parallel scaling on MNIST: samples/s for W = 1 … N workers, speedup over one worker,
// parallel efficiency, the per-step synchronization overhead, and the epoch time against the ideal
// of W cores at their FMA peak: `npm run bench:scaling [-- --json] [--repeats N]
// [--max-workers N] [--steps N]`. Also measures what a step's synchronization costs on its own:
// Piscina's per-task dispatch (an empty pool.run) against the engine's barrier step.
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Dataset } from '../src/data/dataset.js';
import { loadMnist } from '../src/data/mnist.js';
import { splitDataset } from '../src/data/split.js';
import { native } from '../src/native.js';
import { createModel, sharedFloats } from '../src/nn/model.js';
import { resolveOptimizer, updateRule } from '../src/optim/optimizer.js';
import type { Engine, EngineSetup } from '../src/train/engine.js';
import { DataParallelEngine, type ParallelTiming } from '../src/train/parallel/engine.js';
import { createPool } from '../src/train/parallel/pool.js';
import { SerialEngine, identity } from '../src/train/serial.js';
import { Random } from '../src/util/random.js';
import { type BenchOptions, machineDescription, median, parseBenchArgs, report, type Row } from './common.js';

export interface ScalingConfig {
  layers: number[];
  /** Samples per step, or 'full' for the whole training set. */
  batch: number | 'full';
  data: 'mnist' | 'user';
  /** Steps timed per repeat, when fewer than an epoch (a partial epoch, extrapolated). */
  steps?: number;
}

export const SCALING_CONFIGS: ScalingConfig[] = [
  { layers: [784, 128, 10], batch: 128, data: 'mnist' },
  { layers: [784, 128, 10], batch: 512, data: 'mnist' },
  { layers: [784, 1024, 1024, 10], batch: 256, data: 'mnist', steps: 40 },
  { layers: [784, 128, 10], batch: 'full', data: 'user', steps: 3 },
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
  workers: number;
  samplesPerSec: number;
  speedup: number;
  efficiency: number;
  syncMicros: number;
  epochSeconds: number;
  idealSeconds: number;
  /** Per step, the slowest worker's gather + forward + backward, reduce + check, and update. */
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
  /** An engine step whose shards are one sample of a 1→2 network: barriers and wake-ups only. */
  barrierStepMicros: number;
}

export interface ScalingResult {
  machine: string;
  isa: string;
  peakGflops: number;
  sync: SyncRow[];
  rows: ScalingRow[];
}

export async function runScalingBench(opts: ScalingOptions): Promise<ScalingResult> {
  const isa = native.isa();
  const peakGflops = median([0, 1, 2].map(() => native.fmaPeak(isa, 0.25)));
  const workerCounts = Array.from({ length: opts.maxWorkers }, (_, i) => i + 1);
  const sync: SyncRow[] = [];
  for (const workers of workerCounts) sync.push(await measureSync(workers, opts.repeats));

  const mnist = await loadMnist();
  const user = splitDataset(mnist.train, { valSplit: 0.25, limit: 42000 }).train;
  const rows: ScalingRow[] = [];
  for (const config of opts.configs ?? SCALING_CONFIGS) {
    const data = config.data === 'mnist' ? mnist.train : user;
    // Workers 0 is the serial engine, for reference: what one worker costs over no pool at all.
    const measured: ScalingRow[] = [];
    for (const workers of [0, ...workerCounts]) measured.push(await measureTraining(config, data, workers, peakGflops, opts));
    const single = measured[1].samplesPerSec;
    for (const row of measured) {
      row.speedup = row.samplesPerSec / single;
      row.efficiency = row.workers === 0 ? row.speedup : row.speedup / row.workers;
    }
    rows.push(...measured);
  }
  return { machine: await machineDescription(), isa, peakGflops, sync, rows };
}

/** Piscina's dispatch against the engine's barrier step, in microseconds (medians). */
async function measureSync(workers: number, repeats: number): Promise<SyncRow> {
  const pool = createPool(workers);
  const one = await perCall(() => pool.run({ kind: 'ping' }), 2000, repeats);
  const all = await perCall(() => Promise.all(Array.from({ length: workers }, () => pool.run({ kind: 'ping' }))), 1000, repeats);
  await pool.destroy();

  const count = 4 * workers;
  const images = new Uint8Array(count);
  const labels = new Uint8Array(count);
  const data = new Dataset({ images, labels, count, width: 1, classes: 2, source: 'empty' });
  const engine = await DataParallelEngine.create(setupFor(createModel({ layers: [1, 2] }), data, workers), workers);
  let step = 0;
  const barrier = await perCall(() => engine.step(0, workers, 1e-3, ++step), 2000, repeats);
  await engine.close();
  return { bench: 'scaling-sync', workers, dispatchMicros: one * 1e6, dispatchAllMicros: all * 1e6, barrierStepMicros: barrier * 1e6 };
}

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
  };
}

/** Times `steps` consecutive minibatch steps `repeats` times on a fresh engine (0 workers: serial). */
async function measureTraining(config: ScalingConfig, data: Dataset, workers: number, peakGflops: number, opts: ScalingOptions): Promise<ScalingRow> {
  const batch = config.batch === 'full' ? data.count : config.batch;
  const epochSteps = Math.ceil(data.count / batch);
  const timedSteps = Math.min(epochSteps, opts.steps ?? config.steps ?? epochSteps);
  const model = createModel({ layers: config.layers }, { seed: 1 });
  const setup = setupFor(model, data, batch);
  const engine: Engine = workers === 0 ? new SerialEngine(setup) : await DataParallelEngine.create(setup, workers);
  const samples = Math.min(data.count, timedSteps * batch);
  const pass = async (lr: number) => {
    for (let s = 0; s < timedSteps; s++) {
      const start = s * batch;
      await engine.step(start, Math.min(batch, data.count - start), lr, s + 1);
    }
  };
  await pass(1e-3); // warm-up: first touch of every buffer, JIT
  const parallel = engine instanceof DataParallelEngine ? engine : null;
  const before = parallel ? { ...parallel.timing } : null;
  const seconds: number[] = [];
  for (let r = 0; r < opts.repeats; r++) {
    const start = performance.now();
    await pass(1e-3);
    seconds.push((performance.now() - start) / 1000);
  }
  await engine.close();

  const samplesPerSec = samples / median(seconds);
  // Per-step means over the timed repeats; the serial engine has no breakdown (zeros).
  const perStep = (field: keyof ParallelTiming) =>
    parallel && before ? ((parallel.timing[field] - before[field]) / (parallel.timing.steps - before.steps)) * 1e6 : 0;
  const gradientMicros = perStep('gradientSeconds');
  const reduceMicros = perStep('reduceSeconds');
  const updateMicros = perStep('updateSeconds');
  const weights = config.layers.slice(1).reduce((sum, out, i) => sum + out * config.layers[i], 0);
  return {
    bench: 'scaling',
    net: config.layers.join('-'),
    batch: config.batch,
    workers,
    samplesPerSec,
    speedup: 1,
    efficiency: 1,
    syncMicros: parallel ? perStep('wallSeconds') - gradientMicros - reduceMicros - updateMicros : 0,
    epochSeconds: data.count / samplesPerSec,
    idealSeconds: (6 * weights * data.count) / (Math.max(1, workers) * peakGflops * 1e9),
    gradientMicros,
    reduceMicros,
    updateMicros,
    timedSteps,
    epochSteps,
  };
}

function parseScalingArgs(argv: string[] = process.argv.slice(2)): ScalingOptions {
  const base = parseBenchArgs(argv);
  const value = (flag: string): number | undefined => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const n = Number(argv[i + 1]);
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`${flag} must be a positive integer, got ${argv[i + 1]}`);
    return n;
  };
  return { ...base, maxWorkers: value('--max-workers') ?? availableParallelism(), steps: value('--steps') };
}

async function main(): Promise<void> {
  const opts = parseScalingArgs();
  const result = await runScalingBench(opts);
  if (opts.json) {
    console.log(JSON.stringify({ bench: 'scaling-machine', machine: result.machine, isa: result.isa, peakGflops: result.peakGflops }));
  } else {
    console.log(result.machine);
    console.log(`FMA peak ${result.isa}: ${result.peakGflops.toFixed(1)} GFLOP/s (one core); medians of ${opts.repeats} repeats`);
    console.log('\nSynchronization, microseconds per round trip:');
  }
  report(result.sync, opts.json);
  if (!opts.json) console.log('\nTraining throughput (timedSteps < epochSteps: a partial epoch, extrapolated):');
  report(result.rows, opts.json);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
