// Training across processes over MPI on this machine: `npm run bench:mpi [-- --json] [--repeats N]`.
// The driver (a plain `node`) starts every measurement as a job of its own, under mpirun or alone,
// alternating them so that a shared machine's noise falls on all alike:
//   - allreduce latency and bandwidth over 2 ranks, for 4 bytes and the gradient slabs of
//     784-128-10 and 784-1024-1024-10 (one whole-slab collective, as the communication thread runs it);
//   - samples/s of R ranks × W workers (R·W = 2) against one process with 2 workers, on both nets;
//     2 ranks × 1 worker without the overlap (FCNN_MPI_OVERLAP=0: every layer's allreduce after the
//     backward pass); and 2 plain processes × 1 worker side by side on half the batch each, without
//     communicating (twice the slower one's samples/s): what 2 ranks would reach if the allreduce
//     were free;
//   - the compute time of a step of one process with 2 workers at batch 128 and 1024, and from it
//     and the ring allreduce's cost the speedup to expect on R machines (the scaling model of docs/MPI.md).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Dataset } from '../src/data/dataset.js';
import { joinWorld, underLauncher } from '../src/train/mpi/world.js';
import { createModel } from '../src/nn/model.js';
import { train } from '../src/train/trainer.js';
import { Random } from '../src/util/random.js';
import { machineDescription, median, parseBenchArgs, report, type Row } from './common.js';

const NETS: number[][] = [
  [784, 128, 10],
  [784, 1024, 1024, 10],
];
const SCRIPT = fileURLToPath(import.meta.url);
/** Timed epochs per training run, after one to warm up. */
const EPOCHS = 3;

const paramCount = (layers: number[]) => layers.slice(1).reduce((n, out, i) => n + (layers[i] + 1) * out, 0);

/** Random uint8 pixels, 10 classes: the speed does not depend on what is learned. */
function syntheticData(count: number, width: number): Dataset {
  const rng = new Random(7);
  const images = new Uint8Array(count * width);
  for (let i = 0; i < images.length; i++) images[i] = Math.floor(256 * rng.uniform());
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return new Dataset({ images, labels, count, width, classes: 10, source: 'synthetic' });
}

/** A rank (or the lone process) of one training measurement: prints {samplesPerSec, stepMs} from rank 0. */
async function trainRole(layers: number[], batch: number, workers: number, steps: number): Promise<void> {
  const distributed = underLauncher();
  const data = syntheticData(batch * steps, layers[0]);
  const rates: number[] = [];
  const history = await train(createModel({ layers }, { seed: 1 }), data, {
    epochs: EPOCHS + 1,
    batchSize: batch,
    workers,
    optimizer: 'momentum',
    ...(distributed && { distributed: 'mpi' as const }),
    onEpoch: (e) => e.epoch > 1 && rates.push(e.samplesPerSec),
  });
  if (history.rank === 0) console.log(JSON.stringify({ samplesPerSec: median(rates), stepMs: (1000 * batch) / median(rates) }));
}

/** Rank 0 prints the median time of a blocking whole-slab allreduce per size. */
function allreduceRole(): void {
  const world = joinWorld();
  for (const [name, floats] of [['4 B', 1], ...NETS.map((l) => [l.join('-'), paramCount(l)] as const)] as const) {
    const x = new Float32Array(new SharedArrayBuffer(4 * floats)).fill(1);
    const reps = floats > 1e6 ? 30 : 200;
    const times: number[] = [];
    for (let i = 0; i < reps + 5; i++) {
      const t = performance.now();
      world.mpi.wait(world.mpi.allreduceStart(x, 0, floats));
      if (i >= 5) times.push(performance.now() - t);
    }
    const ms = median(times);
    const bytes = 4 * floats;
    // Bus bandwidth: what each rank sends in a ring allreduce, 2(R−1)/R of the slab, per second.
    const busGBs = (((2 * (world.size - 1)) / world.size) * bytes) / (ms / 1000) / 1e9;
    if (world.rank === 0) console.log(JSON.stringify({ slab: name, bytes, ranks: world.size, ms, busGBs }));
  }
}

function job(ranks: number, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Record<string, number | string>[]> {
  const node = [process.execPath, SCRIPT, ...args];
  const [command, argv] =
    ranks === 0 ? [node[0], node.slice(1)] : ['mpirun', ['--allow-run-as-root', '--oversubscribe', '--bind-to', 'none', '-np', String(ranks), ...node]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${command} ${argv.join(' ')} exited with ${code}`));
      resolve(
        out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l)),
      );
    });
  });
}

interface Setup {
  name: string;
  ranks: number;
  workers: number;
  env?: NodeJS.ProcessEnv;
  /** Plain processes side by side, each on batch/alone rows, not communicating. */
  alone?: number;
}
const SETUPS: Setup[] = [
  { name: '1 process × 2 workers', ranks: 0, workers: 2 },
  { name: '2 ranks × 1 worker', ranks: 2, workers: 1 },
  { name: '2 ranks × 1 worker, no overlap', ranks: 2, workers: 1, env: { FCNN_MPI_OVERLAP: '0' } },
  { name: '2 processes × 1 worker, no allreduce', ranks: 0, workers: 1, alone: 2 },
];

/** samples/s of a setup training `layers` at a global batch `batch` for `steps` steps per epoch. */
async function throughput(s: Setup, layers: number[], batch: number, steps: number): Promise<number> {
  const args = (b: number) => ['train', layers.join(','), String(b), String(s.workers), String(steps)];
  if (!s.alone) return (await job(s.ranks, args(batch), s.env))[0].samplesPerSec as number;
  const outs = await Promise.all(Array.from({ length: s.alone }, () => job(0, args(batch / s.alone!))));
  return s.alone * Math.min(...outs.map(([o]) => o.samplesPerSec as number));
}

/**
 * Ring allreduce of `bytes` over R machines, one collective per layer: 2(R−1)/R · bytes/bandwidth +
 * 2(R−1)·latency per collective. Speedup of R machines over one on the same global batch, the
 * communication not overlapped (an upper bound on its cost).
 */
function speedup(stepMs: number, bytes: number, layers: number, R: number, gbits: number, latencyUs: number): number {
  const commMs = ((((2 * (R - 1)) / R) * bytes) / ((gbits * 1e9) / 8)) * 1000 + (layers * 2 * (R - 1) * latencyUs) / 1000;
  return (R * stepMs) / (stepMs + commMs);
}

async function driver(): Promise<void> {
  const { json, repeats } = parseBenchArgs();
  const print = (title: string, rows: Row[]) => {
    if (!json) console.log(`\n${title}`);
    report(
      rows.map((r) => ({ bench: title, ...r })),
      json,
    );
  };
  if (!json) console.log(`bench:mpi on ${await machineDescription()}, ${repeats} repeats, medians`);

  const reduces: Record<string, number | string>[][] = [];
  for (let r = 0; r < repeats; r++) reduces.push(await job(2, ['allreduce']));
  print(
    'MPI_Allreduce (sum, in place) over 2 ranks on this machine',
    reduces[0].map((row, i) => ({
      slab: row.slab,
      bytes: row.bytes,
      ms: median(reduces.map((rs) => rs[i].ms as number)),
      'bus GB/s': median(reduces.map((rs) => rs[i].busGBs as number)),
    })),
  );

  const cases = NETS.flatMap((layers) => [128, 256].map((batch) => ({ layers, batch })));
  const rates = new Map<string, number[]>();
  for (let r = 0; r < repeats; r++)
    for (const c of cases)
      for (const s of SETUPS) {
        const steps = Math.max(8, Math.round(((c.layers[1] > 500 ? 40 : 400) * 128) / c.batch));
        const key = `${c.layers.join('-')}|${c.batch}|${s.name}`;
        rates.set(key, [...(rates.get(key) ?? []), await throughput(s, c.layers, c.batch, steps)]);
      }
  const rows: Row[] = [];
  for (const c of cases) {
    const base = median(rates.get(`${c.layers.join('-')}|${c.batch}|${SETUPS[0].name}`)!);
    for (const s of SETUPS) {
      const v = median(rates.get(`${c.layers.join('-')}|${c.batch}|${s.name}`)!);
      rows.push({ net: c.layers.join('-'), batch: c.batch, setup: s.name, 'samples/s': v, 'vs 1×2': v / base });
    }
  }
  print('Training throughput, R ranks × W workers (R·W = 2), global batch', rows);

  // Compute per step of one machine (this one: one process, 2 workers) at the per-machine batches of the model.
  const model: Row[] = [];
  for (const layers of NETS)
    for (const perMachine of [128, 1024]) {
      const steps = Math.max(6, Math.round((layers[1] > 500 ? 5000 : 50000) / perMachine));
      const outs: number[] = [];
      for (let r = 0; r < Math.min(repeats, 3); r++)
        outs.push((await job(0, ['train', layers.join(','), String(perMachine), '2', String(steps)]))[0].stepMs as number);
      const stepMs = median(outs);
      for (const [gbits, latencyUs] of [
        [10, 20],
        [100, 5],
      ]) {
        const row: Row = { net: layers.join('-'), 'batch/machine': perMachine, 'step ms': stepMs, link: `${gbits} Gbit/s, ${latencyUs} µs` };
        for (const R of [2, 4, 8, 16, 32, 64]) row[`R=${R}`] = speedup(stepMs, 4 * paramCount(layers), layers.length - 1, R, gbits, latencyUs);
        model.push(row);
      }
    }
  print('Scaling model: speedup of R machines at global batch (batch/machine)·R, allreduce not overlapped', model);
}

const [role, ...rest] = process.argv.slice(2);
if (role === 'allreduce') allreduceRole();
else if (role === 'train') await trainRole(rest[0].split(',').map(Number), Number(rest[1]), Number(rest[2]), Number(rest[3]));
else await driver();
