// Crash safety of model and checkpoint files, measured: a child process writes two versions of a
// file over and over (alternately), and is killed with SIGKILL at a random moment; what is left
// must load as one of the two versions (or be absent, when the kill came before the first rename).
// A temporary file the killed writer left must be gone after the next write of the same file.
//   npm run fuzz:kill [-- --trials 200] [-- --seed 1]
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, saveModel } from '../src/io/fcnn-format.js';
import { createModel, type Model } from '../src/nn/model.js';
import { type Checkpoint, readCheckpoint, writeCheckpoint } from '../src/train/checkpoint.js';
import { resolveTrainOptions } from '../src/train/options.js';
import { Random } from '../src/util/random.js';

/** Large enough (2.7 MB) that a write takes a few milliseconds, so kills land inside writes. */
const SPEC = { layers: [784, 512, 512, 10] };
const KINDS = ['model', 'checkpoint'] as const;
type Kind = (typeof KINDS)[number];

export interface KillOutcomes {
  trials: number;
  /** Killed before its first rename: no file. */
  absent: number;
  /** The file loaded as one of the two versions. */
  versionA: number;
  versionB: number;
  /** The file did not load, or loaded as something else: must stay 0. */
  corrupt: number;
  /** Kills that left a temporary file beside the target. */
  temporaryLeft: number;
  /** Temporary files still there after the next write: must stay 0. */
  temporaryAfterNextWrite: number;
  failures: string[];
}

/** The two versions a writer alternates between. */
function version(which: 0 | 1): Model {
  return createModel(SPEC, { seed: which + 1 });
}

async function write(kind: Kind, path: string, model: Model): Promise<void> {
  if (kind === 'model') return saveModel(path, model);
  const options = resolveTrainOptions(model, { count: 8, width: 784, classes: 10, gather: () => {} }, { workers: 0, optimizer: 'adam' });
  const { checkpoint: _, ...stored } = options;
  const checkpoint: Checkpoint = {
    spec: model.spec,
    params: model.params,
    buffers: model.buffers,
    optimizerState: [model.params, model.params],
    order: Int32Array.from({ length: 8 }, (_, i) => i),
    best: null,
    state: {
      epoch: 0,
      applied: 0,
      rng: new Random(1).state(),
      skippedSteps: 0,
      history: [],
      options: stored,
      earlyStopping: null,
      stopReason: null,
      normalization: null,
      context: null,
    },
  };
  return writeCheckpoint(path, model.layout, checkpoint);
}

async function read(kind: Kind, path: string): Promise<Float32Array> {
  return kind === 'model' ? (await loadModel(path)).params : (await readCheckpoint(path)).params;
}

/** The writer: announces itself, then writes version 0, 1, 0, 1 … until killed. */
async function writer(kind: Kind, path: string): Promise<void> {
  const versions = [version(0), version(1)];
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) await write(kind, path, versions[i % 2]);
}

function same(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/** Runs `trials` kill trials in a fresh directory each; `maxDelayMs` bounds the random wait before the kill. */
export async function killTrials(trials: number, seed = 1, maxDelayMs = 60): Promise<KillOutcomes> {
  // The writer runs from the build, also when this module is loaded from its source (by the tests).
  const self = fileURLToPath(import.meta.url);
  const script = self.endsWith('.ts') ? join(dirname(self), '..', 'dist', 'fuzz', 'kill-writes.js') : self;
  const rng = new Random(seed);
  const versions = [version(0).params, version(1).params];
  const outcomes: KillOutcomes = { trials, absent: 0, versionA: 0, versionB: 0, corrupt: 0, temporaryLeft: 0, temporaryAfterNextWrite: 0, failures: [] };
  for (let t = 0; t < trials; t++) {
    const kind = KINDS[t % 2];
    const dir = await mkdtemp(join(tmpdir(), 'fcnn-kill-'));
    const path = join(dir, kind === 'model' ? 'model.safetensors' : 'run.ckpt');
    try {
      await killWriterAt(script, kind, path, rng.uniform() * maxDelayMs);
      const temporaries = async () => (await readdir(dir)).filter((f) => f.endsWith('.tmp')).length;
      if ((await temporaries()) > 0) outcomes.temporaryLeft++;
      const names = await readdir(dir);
      if (!names.includes(path.slice(dir.length + 1))) outcomes.absent++;
      else {
        try {
          const params = await read(kind, path);
          if (same(params, versions[0])) outcomes.versionA++;
          else if (same(params, versions[1])) outcomes.versionB++;
          else throw new Error('it loaded as neither version');
        } catch (err) {
          outcomes.corrupt++;
          outcomes.failures.push(`trial ${t} (${kind}): ${(err as Error).message}`);
        }
      }
      await write(kind, path, version(0));
      if ((await temporaries()) > 0) outcomes.temporaryAfterNextWrite++;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return outcomes;
}

function killWriterAt(script: string, kind: Kind, path: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, 'writer', kind, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.setEncoding('utf8').once('data', () => setTimeout(() => child.kill('SIGKILL'), delayMs));
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`the writer ended by itself (exit ${code})`))));
  });
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'writer') return writer(argv[1] as Kind, argv[2]);
  const value = (flag: string, fallback: number) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const trials = value('--trials', 200);
  const started = performance.now();
  const o = await killTrials(trials, value('--seed', 1));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`${o.trials} SIGKILL trials in ${seconds} s (model and checkpoint files alternately, kill 0–60 ms after the writer started writing):`);
  console.log(`  absent ${o.absent}, version A ${o.versionA}, version B ${o.versionB}, corrupt ${o.corrupt}`);
  console.log(`  temporary file left by the kill ${o.temporaryLeft}, still there after the next write ${o.temporaryAfterNextWrite}`);
  for (const f of o.failures) console.log(`  ${f}`);
  if (o.corrupt > 0 || o.temporaryAfterNextWrite > 0) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
