// Data-parallel training across processes over MPI (docs/MPI.md): each case starts a job with
// mpirun on test/mpi/rank.mjs (or the CLI) and compares what every rank ends with against each
// other and against one process on the same global batches. Needs mpirun and the MPI addon
// build/Release/fcnn_mpi.node (built where CMake finds MPI); without them the cases are skipped,
// saying why. The ranks run dist/, which test/global-setup.ts compiles.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCsv } from '../src/data/csv.js';
import { createModel } from '../src/nn/model.js';
import { train } from '../src/train/trainer.js';
import { tempDir } from './data-fixtures.js';
import { type CliResult, ROOT, jsonLines, runProcess } from './helpers/cli.js';
import { blobDataset } from './helpers/datasets.js';
import { relativeError } from './helpers/models.js';

const RANK = join(ROOT, 'test', 'mpi', 'rank.mjs');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

function skipReason(): string | null {
  if (spawnSync('mpirun', ['--version'], { encoding: 'utf8' }).status !== 0) return 'mpirun was not found (apt-get install openmpi-bin libopenmpi-dev)';
  if (!existsSync(join(ROOT, 'build', 'Release', 'fcnn_mpi.node')))
    return 'the MPI addon build/Release/fcnn_mpi.node was not built (MPI missing at build time)';
  return null;
}
const reason = skipReason();
if (reason) console.log(`test/mpi.test.ts: MPI jobs skipped: ${reason}`);

/** `mpirun -np ranks node args…` (one plain process when ranks is 0), killed after timeoutMs; with its duration. */
async function launch(ranks: number, args: string[], timeoutMs = 40_000): Promise<CliResult & { seconds: number }> {
  const mpirun = ['--allow-run-as-root', '--oversubscribe', '--bind-to', 'none', '-np', String(ranks), process.execPath];
  const started = performance.now();
  const result = ranks === 0 ? await runProcess(process.execPath, args, { timeoutMs }) : await runProcess('mpirun', [...mpirun, ...args], { timeoutMs });
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

const files = tempDir();
const csv = files.path('blobs.csv');
let run = 0;

interface Outcome {
  params: Float32Array[];
  histories: { rank: number; worldSize: number; buffers: number[]; epochs: { loss: number; testAccuracy: number }[] }[];
}

/** Trains with rank.mjs on `ranks` processes (0: one plain process); every rank's parameters and history. */
async function trainJob(ranks: number, options: Record<string, unknown>, spec: Record<string, unknown> = { layers: [12, 16, 3] }): Promise<Outcome> {
  const out = files.path(`run${run++}`);
  mkdirSync(out);
  const job = { csv, out, spec, seed: 2, options: { epochs: 3, batchSize: 10, ...options } };
  const result = await launch(ranks, [RANK, JSON.stringify(job)]);
  expect(result.stderr).not.toMatch(/Error|error/);
  expect(result.code).toBe(0);
  const params: Float32Array[] = [];
  const histories = [];
  for (let r = 0; r < Math.max(ranks, 1); r++) {
    const bytes = readFileSync(join(out, `rank${r}.bin`));
    params.push(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    histories.push(JSON.parse(readFileSync(join(out, `rank${r}.json`), 'utf8')));
  }
  return { params, histories };
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

beforeAll(async () => {
  // 103 samples, batch 10: 10 full batches and one of 3 a step, 33 steps over 3 epochs; 3 ranks cut 10 rows 4-3-3.
  await writeCsv(blobDataset(103, 12, 3, 1), csv);
});
afterAll(() => files.cleanup());

describe.skipIf(reason !== null)('training over MPI', () => {
  it('2 ranks × 1 worker end bit-identical, and equal to 1 process × 2 workers bit for bit', async () => {
    const job = await trainJob(2, { workers: 1, distributed: 'mpi' });
    const one = await trainJob(0, { workers: 2 });
    expect(bits(job.params[1]).equals(bits(job.params[0]))).toBe(true);
    // The same shards, each rank's gradient a worker's, and the sum of two terms is the same either way.
    expect(bits(job.params[0]).equals(bits(one.params[0]))).toBe(true);
    expect(job.histories[0]).toMatchObject({ rank: 0, worldSize: 2 });
    // The epoch's loss is summed over the steps per rank, then over the ranks: float64 rounding apart, the same.
    job.histories[0].epochs.forEach((e, i) => expect(e.loss).toBeCloseTo(one.histories[0].epochs[i].loss, 12));
  });

  it('3 ranks × 2 workers end bit-identical, within 1e-4 of 1 serial process after 33 steps', async () => {
    const job = await trainJob(3, { workers: 2, distributed: 'mpi' });
    const one = await trainJob(0, { workers: 0 });
    for (const p of job.params.slice(1)) expect(bits(p).equals(bits(job.params[0]))).toBe(true);
    const error = relativeError(job.params[0], one.params[0]);
    expect(error).toBeLessThan(1e-4);
    expect(error).toBeGreaterThan(0); // the sums run in another order: not bit-identical, and this would say so if they became so
    expect(job.histories[2].epochs[2].testAccuracy).toBe(one.histories[0].epochs[2].testAccuracy);
  });

  it('a BatchNorm model on 2 ranks × 2 workers: parameters and running statistics agree on every rank', async () => {
    const job = await trainJob(2, { workers: 2, distributed: 'mpi' }, { layers: [12, 16, 3], norm: 'batch' });
    expect(bits(job.params[1]).equals(bits(job.params[0]))).toBe(true);
    expect(job.histories[1].buffers).toEqual(job.histories[0].buffers);
    expect(job.histories[0].buffers.some((v) => v !== 0 && v !== 1)).toBe(true);
  });

  it('1 rank equals a plain run bit for bit', async () => {
    const job = await trainJob(1, { workers: 0, distributed: 'mpi' });
    const one = await trainJob(0, { workers: 0 });
    expect(bits(job.params[0]).equals(bits(one.params[0]))).toBe(true);
  });

  it('a rank that throws mid-epoch ends the job non-zero within 10 s, naming the rank', async () => {
    const job = {
      csv,
      out: files.dir,
      spec: { layers: [12, 16, 3] },
      seed: 2,
      options: { epochs: 3, batchSize: 10, workers: 1, distributed: 'mpi' },
      throwAt: { rank: 1, epoch: 2, step: 4 },
    };
    const result = await launch(3, [RANK, JSON.stringify(job)], 20_000);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull(); // not killed by the timeout
    expect(result.seconds).toBeLessThan(10);
    expect(result.stderr).toContain('[rank 1/3] fcnn: test fault at epoch 2 step 4');
  });

  it('the CLI: rank 0 alone prints, --json names the run first and the ranks last, rank 0 saves', async () => {
    const model = files.path('cli.safetensors');
    const result = await launch(2, [
      MAIN,
      'train',
      '--distributed',
      'mpi',
      '--csv',
      csv,
      '--test-csv',
      csv,
      '--layers',
      '12,16,3',
      '--epochs',
      '2',
      '--batch-size',
      '20',
      '--workers',
      '1',
      '--json',
      '--save',
      model,
    ]);
    expect(result.code).toBe(0);
    const events = jsonLines(result.stdout);
    expect(events[0]).toMatchObject({ event: 'mpi', worldSize: 2, workers: 1, globalBatch: 20 });
    expect(String(events[0].library)).toMatch(/MPI/);
    expect(events.filter((e) => e.event === 'epoch')).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ event: 'done', rank: 0, worldSize: 2 });
    expect(result.stderr).not.toContain('[rank 1/2]');
    expect(existsSync(model)).toBe(true);
  });
});

describe('without an MPI launcher', () => {
  it("distributed: 'mpi' is refused, saying how to launch", async () => {
    const data = blobDataset(20, 4, 2, 1);
    await expect(train(createModel({ layers: [4, 2] }), data, { distributed: 'mpi', workers: 0, epochs: 1 })).rejects.toThrow(
      /needs a process started by an MPI launcher, e\.g\. `mpirun -np 2/,
    );
  });

  it('an unknown distributed kind is an InvalidOptionError naming the option', async () => {
    const data = blobDataset(20, 4, 2, 1);
    const refusal = train(createModel({ layers: [4, 2] }), data, { distributed: 'nccl' as 'mpi', workers: 0 });
    await expect(refusal).rejects.toThrow(/distributed must be 'mpi'/);
    await expect(refusal).rejects.toMatchObject({ name: 'InvalidOptionError', option: 'distributed' });
  });
});
