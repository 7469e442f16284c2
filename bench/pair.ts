// Two builds of the data-parallel engine (or one build in two precisions) timed alternately in one
// process, so that both see the same machine: the paired ratios by which a change to the step stays
// or goes (docs/BENCHMARKS.md). On a shared VM a run's threads sit wherever the VM put them, which
// moves a whole run by several percent; hence several runs, each its own pair of engines.
//
//   npm run bench:pair -- --against DIR [--workers 2] [--runs 9] [--rounds 15]
//                         [--precision fp32 | bf16 | fp32/bf16] [--nets 784-128-10@128,...] [--json]
//
// DIR is another built checkout (its dist/), or `.` for this one (with --precision fp32/bf16: this
// build's fp32 steps against its bf16 ones). Ratios are this build's step time over DIR's: below 1,
// this one is faster.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { machineDescription, median, parseBenchArgs, report, type Row } from './common.js';
import type { Precision } from '../src/nn/dense.js';
import { SCALING_CONFIGS, type ScalingConfig } from './scaling.js';

/** What a build must export for a paired run: the pieces of bench:scaling's timed epochs. */
interface Build {
  loadMnist: () => Promise<{ train: unknown & { count: number } }>;
  createModel: (spec: { layers: number[] }, init: { seed: number }) => { layout: { paramCount: number } };
  resolveOptimizer: (name: string) => unknown;
  updateRule: (config: unknown) => { stateSlabs: number };
  sharedFloats: (n: number) => Float32Array;
  identity: (n: number) => Int32Array;
  Random: new (seed: number) => { shuffle(a: Int32Array): void };
  DataParallelEngine: {
    create(setup: object, workers: number): Promise<{ epoch(plan: object, onStep: () => void): Promise<unknown>; close(): Promise<void> }>;
  };
}

/** The modules of the build whose dist/ is under `root`. */
async function loadBuild(root: string): Promise<Build> {
  const load = async (path: string) => {
    const file = resolve(root, 'dist', path);
    try {
      return await import(pathToFileURL(file).href);
    } catch (error) {
      throw new Error(`cannot load ${file}: is ${root} a built checkout (npm run build)?`, { cause: error });
    }
  };
  const modules = await Promise.all(
    ['src/data/mnist.js', 'src/nn/model.js', 'src/optim/optimizer.js', 'src/train/parallel/engine.js', 'src/train/serial.js', 'src/util/random.js'].map(load),
  );
  // Builds from before util/shared-memory.ts exported sharedFloats from nn/model.js.
  const memory = await load('src/util/shared-memory.js').catch(() => ({}));
  return Object.assign({}, ...modules, { sharedFloats: memory.sharedFloats ?? modules[1].sharedFloats }) as Build;
}

function option(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

function positiveInteger(argv: string[], name: string, fallback: number): number {
  const value = Number(option(argv, name, String(fallback)));
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${option(argv, name, '')}`);
  return value;
}

export interface PairOptions {
  json: boolean;
  /** The other build's checkout. */
  against: string;
  workers: number;
  runs: number;
  rounds: number;
  /** The other build's precision, and this one's. */
  precisions: [Precision, Precision];
  configs: ScalingConfig[];
}

/** bench:pair's options, each refused with its name when it makes no sense. */
export function parsePairArgs(argv: string[]): PairOptions {
  const { json } = parseBenchArgs(argv);
  const against = option(argv, '--against', '');
  if (!against) throw new RangeError('--against DIR is required: a built checkout to compare with (. for this one)');
  const precisions = option(argv, '--precision', 'fp32').split('/');
  if (precisions.length > 2 || !precisions.every((p): p is Precision => p === 'fp32' || p === 'bf16'))
    throw new RangeError(`--precision must be fp32, bf16 or two of them joined by /, got ${precisions.join('/')}`);
  const nets = option(argv, '--nets', '784-128-10@128,784-128-10@512,784-1024-1024-10@256').split(',');
  const known = new Map(SCALING_CONFIGS.filter((c) => c.batch !== 'full').map((c) => [`${c.layers.join('-')}@${c.batch}`, c]));
  const unknown = nets.find((n) => !known.has(n));
  if (unknown !== undefined) throw new RangeError(`--nets: ${unknown} is not one of bench:scaling's nets (${[...known.keys()].join(', ')})`);
  const configs = nets.map((n) => known.get(n)!);
  return {
    json,
    against,
    workers: positiveInteger(argv, '--workers', 2),
    runs: positiveInteger(argv, '--runs', 9),
    rounds: positiveInteger(argv, '--rounds', 15),
    precisions: [precisions[0], precisions[1] ?? precisions[0]],
    configs,
  };
}

async function main(): Promise<void> {
  const { json, against, workers, runs, rounds, precisions, configs } = parsePairArgs(process.argv.slice(2));
  const [precisionA, precisionB] = precisions;
  const builds = [await loadBuild(against), await loadBuild(resolve(import.meta.dirname, '..', '..'))];
  const data = (await builds[1].loadMnist()).train;
  if (!json)
    console.log(
      `${await machineDescription()}; W = ${workers}; A: ${against} ${precisionA}, B: this build ${precisionB}; B/A per run: median over ${rounds} ABBA rounds`,
    );
  const summary: Row[] = [];
  for (const c of configs) {
    const batch = c.batch as number;
    const ratios: number[] = [];
    for (let run = 1; run <= runs; run++) {
      const engines: Awaited<ReturnType<Build['DataParallelEngine']['create']>>[] = [];
      for (const [i, b] of builds.entries()) {
        const model = b.createModel({ layers: c.layers }, { seed: 1 });
        const optimizer = b.resolveOptimizer('momentum');
        const order = b.identity(data.count);
        new b.Random(1).shuffle(order);
        const optimizerState = Array.from({ length: b.updateRule(optimizer).stateSlabs }, () => b.sharedFloats(model.layout.paramCount));
        const precision = i === 0 ? precisionA : precisionB;
        engines.push(await b.DataParallelEngine.create({ model, data, order, batchSize: batch, optimizer, precision, optimizerState }, workers));
      }
      const lr = new Float64Array(Math.ceil(data.count / batch)).fill(1e-3);
      const stepMicros = async (i: number, n: number) => {
        const start = performance.now();
        await engines[i].epoch({ steps: n, lr, stopOnNonFinite: false }, () => {});
        return ((performance.now() - start) / n) * 1000;
      };
      // Warm both for 2 s, then time rounds of about 100 ms each (at least 8 steps, at most an epoch):
      // an epoch's start and end cost a few wake-ups, which short rounds would count.
      const warmUp: number[] = [];
      const warm = performance.now();
      while (performance.now() - warm < 2000) for (const i of [0, 1]) warmUp.push(await stepMicros(i, 32));
      const steps = Math.max(8, Math.min(lr.length, Math.round(100_000 / median(warmUp))));
      const times: number[][] = [[], []];
      for (let r = 0; r < rounds; r++)
        for (const i of r % 2 ? [1, 0] : [0, 1]) {
          // The other engine's workers poll for a while after their round before they sleep: not on these cores.
          await new Promise((done) => setTimeout(done, 3));
          times[i].push(await stepMicros(i, steps));
        }
      await Promise.all(engines.map((e) => e.close()));
      const ratio = median(times[1].map((t, r) => t / times[0][r]));
      ratios.push(ratio);
      const [a, b] = times.map(median);
      if (json) report([{ bench: 'pair', net: c.layers.join('-'), batch, run, steps, stepMicrosA: a, stepMicrosB: b, ratio }], true);
      else
        console.log(
          `${c.layers.join('-')} @${batch} run ${run}: ${steps} steps a round, A ${a.toFixed(1)} µs, B ${b.toFixed(1)} µs a step, B/A ${ratio.toFixed(3)}`,
        );
    }
    const sorted = [...ratios].sort((a, b) => a - b);
    summary.push({
      bench: 'pair',
      net: c.layers.join('-'),
      batch,
      runs,
      rounds,
      medianRatio: median(ratios),
      lowest: sorted[0],
      highest: sorted[sorted.length - 1],
    });
  }
  report(summary, json);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
