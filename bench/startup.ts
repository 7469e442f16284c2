// What a user's run costs from a cold start: `npm run bench:startup [-- --json] [--repeats N]
// [--max-workers N] [--precision bf16] [--epochs N]`. Each repeat starts fresh processes that train
// the recommended preset (the run `npm start` makes) with W = 1 … N workers, two ways in
// alternation:
//   - `train()`: a process that loads MNIST and calls train() with the preset's options; it times
//     the call to its first step and to the end of epoch 1 (its evaluation included);
//   - `cli`: `fcnn train --preset recommended --json --workers W`, the user's command itself.
// Both report epoch 1's seconds against the median of the later epochs' (the warm-up tax of a fresh
// pool: coldRatio), and, timed by this process from the spawn, the seconds to the first epoch at
// ≥ 98% test accuracy and to the process's exit. Rows are medians over the repeats.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadMnist } from '../src/data/mnist.js';
import type { Precision } from '../src/nn/dense.js';
import { createModel } from '../src/nn/model.js';
import { PRESETS } from '../src/train/presets.js';
import { train } from '../src/train/trainer.js';
import { machineDescription, median, parseBenchArgs, report, type Row } from './common.js';

/** The test accuracy whose first epoch the rows time (the recommended preset's promise). */
export const TARGET_ACCURACY = 0.98;

export type StartupRun = 'train()' | 'cli';

/** What one process of a repeat reports; times in seconds. */
export interface StartupSample {
  /** train(): from the call to its first step, and to the end of epoch 1 (null for the CLI). */
  firstStep: number | null;
  epoch1End: number | null;
  /** Each epoch's training seconds (evaluation excluded) and test accuracy. */
  epochs: { seconds: number; testAccuracy: number }[];
  /** From the spawn, as this process saw the epoch's line arrive, and to the process's exit. */
  arrivals: number[];
  exit: number;
}

export interface StartupRow extends Row {
  bench: 'startup';
  run: StartupRun;
  workers: number;
  precision: Precision;
  firstStepSeconds: number | string;
  epoch1EndSeconds: number | string;
  firstEpochSeconds: number;
  steadyEpochSeconds: number;
  /** First epoch over the steady one: what a fresh pool's warm-up costs. */
  coldRatio: number;
  /** From the spawn to the end of the first epoch at TARGET_ACCURACY (evaluation included), and how many epochs. */
  secondsTo98: number | string;
  epochsTo98: number | string;
  processSeconds: number;
  testAccuracy: number;
}

const NOT_APPLICABLE = '—';

/** One row of medians from the repeats' samples of one run and worker count. */
export function summarize(run: StartupRun, workers: number, precision: Precision, samples: StartupSample[]): StartupRow {
  const firstEpoch = samples.map((s) => s.epochs[0].seconds);
  const steady = samples.map((s) => median(s.epochs.slice(1).map((e) => e.seconds)));
  const reached = samples.map((s) => s.epochs.findIndex((e) => e.testAccuracy >= TARGET_ACCURACY));
  // A repeat that never reached the target counts as never: the median says so when most did not.
  const to98 = samples.map((s, i) => (reached[i] < 0 ? Infinity : s.arrivals[reached[i]]));
  const epochsTo98 = reached.map((e) => (e < 0 ? Infinity : e + 1));
  const orNone = (v: number) => (Number.isFinite(v) ? v : NOT_APPLICABLE);
  const timed = (pick: (s: StartupSample) => number | null) =>
    samples[0] && pick(samples[0]) !== null ? median(samples.map((s) => pick(s)!)) : NOT_APPLICABLE;
  return {
    bench: 'startup',
    run,
    workers,
    precision,
    firstStepSeconds: timed((s) => s.firstStep),
    epoch1EndSeconds: timed((s) => s.epoch1End),
    firstEpochSeconds: median(firstEpoch),
    steadyEpochSeconds: median(steady),
    coldRatio: median(firstEpoch.map((f, i) => f / steady[i])),
    secondsTo98: orNone(median(to98)),
    epochsTo98: orNone(median(epochsTo98)),
    processSeconds: median(samples.map((s) => s.exit)),
    testAccuracy: median(samples.map((s) => s.epochs[s.epochs.length - 1].testAccuracy)),
  };
}

interface ChildLine {
  event: string;
  seconds?: number;
  testAccuracy?: number;
  firstStep?: number;
  epoch1End?: number;
}

/** Spawns one process of a repeat and collects its sample from its JSON lines. */
async function sample(run: StartupRun, workers: number, precision: Precision, epochs: number | undefined): Promise<StartupSample> {
  const extra = [`--workers`, String(workers), '--precision', precision, ...(epochs ? ['--epochs', String(epochs)] : [])];
  const args =
    run === 'cli'
      ? [fileURLToPath(new URL('../src/cli/main.js', import.meta.url)), 'train', '--preset', 'recommended', '--json', ...extra]
      : [fileURLToPath(import.meta.url), '--child', ...extra];
  const start = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const out: StartupSample = { firstStep: null, epoch1End: null, epochs: [], arrivals: [], exit: 0 };
  for await (const line of createInterface({ input: child.stdout })) {
    const at = (performance.now() - start) / 1000;
    const event = JSON.parse(line) as ChildLine;
    if (event.event === 'epoch') {
      out.epochs.push({ seconds: event.seconds!, testAccuracy: event.testAccuracy! });
      out.arrivals.push(at);
    } else if (event.event === 'start') {
      out.firstStep = event.firstStep!;
      out.epoch1End = event.epoch1End!;
    }
  }
  const code = await exited;
  out.exit = (performance.now() - start) / 1000;
  if (code !== 0 || out.epochs.length < 2)
    throw new Error(`bench:startup: ${run} with ${workers} workers exited with code ${code} after ${out.epochs.length} epochs\n${stderr}`);
  return out;
}

export interface StartupOptions {
  repeats: number;
  maxWorkers: number;
  precision: Precision;
  /** Overrides the preset's epochs (at least 2: the steady state is the epochs after the first). */
  epochs?: number;
}

/** The rows: per worker count, train() then the CLI; each repeat runs every variant once, in alternation. */
export async function runStartupBench(o: StartupOptions): Promise<StartupRow[]> {
  const variants = Array.from({ length: o.maxWorkers }, (_, i) => i + 1).flatMap((workers) => (['train()', 'cli'] as const).map((run) => ({ run, workers })));
  const samples = variants.map((): StartupSample[] => []);
  for (let r = 0; r < o.repeats; r++)
    for (let i = 0; i < variants.length; i++) samples[i].push(await sample(variants[i].run, variants[i].workers, o.precision, o.epochs));
  return variants.map(({ run, workers }, i) => summarize(run, workers, o.precision, samples[i]));
}

/**
 * The `train()` process: the preset's model and options, as the CLI passes them (the CLI adds only
 * its printing); one JSON line per epoch as it ends, then one with the start-up times.
 */
async function child(argv: string[]): Promise<void> {
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    return i < 0 ? undefined : argv[i + 1];
  };
  const preset = PRESETS.recommended;
  const { train: trainSet, test } = await loadMnist();
  const model = createModel(preset.model, { init: preset.init, seed: 1 });
  const epochs = flag('--epochs');
  let firstStep = 0;
  let epoch1End = 0;
  const called = performance.now();
  await train(model, trainSet, {
    ...preset.train,
    ...(epochs && { epochs: Number(epochs) }),
    normalize: preset.data.normalize,
    workers: Number(flag('--workers')),
    precision: flag('--precision') as Precision,
    seed: 1,
    evalData: test,
    onStep: (s) => {
      if (s.epoch === 1 && s.step === 1) firstStep = (performance.now() - called) / 1000;
    },
    onEpoch: (e) => {
      if (e.epoch === 1) epoch1End = (performance.now() - called) / 1000;
      console.log(JSON.stringify({ event: 'epoch', seconds: e.seconds, testAccuracy: e.testAccuracy }));
    },
  });
  console.log(JSON.stringify({ event: 'start', firstStep, epoch1End }));
}

function parseStartupArgs(argv: string[]): StartupOptions & { json: boolean } {
  const { json, repeats } = parseBenchArgs(argv);
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i < 0 ? undefined : argv[i + 1];
  };
  const count = (flag: string, least: number): number | undefined => {
    const text = value(flag);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!(Number.isInteger(n) && n >= least)) throw new RangeError(`${flag} must be an integer of at least ${least}, got ${text}`);
    return n;
  };
  const precision = value('--precision') ?? 'fp32';
  if (precision !== 'fp32' && precision !== 'bf16') throw new RangeError(`--precision must be fp32 or bf16, got ${precision}`);
  return { json, repeats, maxWorkers: count('--max-workers', 1) ?? Math.min(2, availableParallelism()), precision, epochs: count('--epochs', 2) };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') return child(argv);
  const o = parseStartupArgs(argv);
  if (!o.json) {
    console.log(await machineDescription());
    console.log(
      `The recommended preset from fresh processes, ${o.precision}; medians of ${o.repeats} repeats (seconds; secondsTo98 and processSeconds from the spawn):`,
    );
  }
  report(await runStartupBench(o), o.json);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
