// What a rank does around the engines when training over MPI: agree on the run, start from rank
// 0's parameters, sum the metrics, average the BatchNorm statistics, check that the parameters
// still agree, and end the whole job when anything fails on one rank.
import { cpus, availableParallelism } from 'node:os';
import type { Model } from '../../nn/model.js';
import type { World } from './world.js';

/**
 * Every rank must run the same training (the same data, batch, model and epochs), or their
 * collectives would not match: an Error naming the first value that differs from rank 0's.
 */
export function checkSameRun(world: World, values: Record<string, number>): void {
  const names = Object.keys(values);
  const mine = Float64Array.from(names.map((n) => values[n]));
  const root = mine.slice();
  world.mpi.broadcast(root, 0);
  const differs = Float64Array.from(mine, (v, i) => (v === root[i] ? 0 : 1));
  world.mpi.allreduceF64(differs);
  const i = differs.findIndex((d) => d !== 0);
  if (i < 0) return;
  const here = mine[i] !== root[i] ? `this rank has ${mine[i]}, rank 0 has ${root[i]}` : `rank 0 has ${root[i]}`;
  throw new Error(`the ranks do not run the same training: ${names[i]} differs on ${differs[i]} rank(s) (${here})`);
}

/** Every rank starts from rank 0's parameters and statistics (ranks may have initialized theirs differently). */
export function broadcastModel(world: World, model: Model): void {
  world.mpi.broadcast(model.params, 0);
  if (model.buffers.length > 0) world.mpi.broadcast(model.buffers, 0);
}

/** Sums the values over the ranks, in float64, in place; returns them. */
export function sumOverRanks(world: World, values: Float64Array): Float64Array {
  world.mpi.allreduceF64(values);
  return values;
}

/** BatchNorm running statistics moved with each rank's own parts: every rank takes their mean. */
export function averageBuffers(world: World, model: Model): void {
  const { buffers } = model;
  if (buffers.length === 0) return;
  const sum = sumOverRanks(world, Float64Array.from(buffers));
  for (let i = 0; i < buffers.length; i++) buffers[i] = sum[i] / world.size;
}

/** FNV-1a over the bytes of the parameters and statistics. */
export function modelHash(model: Model): number {
  let h = 0x811c9dc5;
  for (const slab of [model.params, model.buffers]) {
    const bytes = new Uint8Array(slab.buffer, slab.byteOffset, slab.byteLength);
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  }
  return h >>> 0;
}

/** An Error on every rank unless all ranks hold bit-identical parameters and statistics. */
export function checkModelsAgree(world: World, model: Model): void {
  const hash = modelHash(model);
  const root = Float64Array.of(hash);
  world.mpi.broadcast(root, 0);
  const differing = sumOverRanks(world, Float64Array.of(hash === root[0] ? 0 : 1))[0];
  if (differing > 0)
    throw new Error(
      `the ranks' parameters differ after training: ${differing} of ${world.size} ranks disagree with rank 0 (hash ${hash.toString(16)} here, ${root[0].toString(16)} on rank 0)`,
    );
}

/** `[rank r/R] `: what starts every line a rank other than 0 prints. */
export function rankPrefix(world: World): string {
  return `[rank ${world.rank}/${world.size}] `;
}

/** Reports the error with this rank's number on stderr and ends every rank of the job (MPI_Abort), non-zero. */
export function failJob(world: World, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${rankPrefix(world)}fcnn: ${message}\n`);
  return world.mpi.abort(1);
}

/**
 * A launcher that binds each rank to one core (mpirun does when np ≤ 2) leaves a rank's worker
 * pool one core: the warning to give then, or null.
 */
export function bindingWarning(workers: number): string | null {
  const cores = cpus().length;
  if (availableParallelism() > 1 || cores <= 1 || workers <= 1) return null;
  return `warning: the MPI launcher bound this rank to 1 core of ${cores} (os.availableParallelism() is 1), so its ${workers} workers share it; launch with \`mpirun --bind-to none\` (or --map-by ppr:1:node:PE=${workers})`;
}
