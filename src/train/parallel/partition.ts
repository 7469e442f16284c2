// How work is split among W workers: the rows of a batch into contiguous shards, and the
// parameter vector into the slices each worker reduces and updates. Plain arithmetic, so that
// every worker computes the same split without being told.
import type { ModelSpec } from '../../nn/spec.js';

/**
 * Workers that take rows of a `count`-row batch: all of them, but never so many that a shard
 * would hold fewer than `minRows` rows (BatchNorm needs 2 to have batch statistics), and at
 * least one. The others get empty shards.
 */
export function activeWorkers(count: number, workers: number, minRows: number): number {
  return Math.max(1, Math.min(workers, Math.floor(count / minRows)));
}

/**
 * First row of worker w's shard when `count` rows are split among the first `active` workers into
 * contiguous shards whose sizes differ by at most one (the first count % active take one row
 * more). Worker w's rows are [shardStart(count, active, w), shardStart(count, active, w + 1));
 * workers from `active` on get none.
 */
export function shardStart(count: number, active: number, w: number): number {
  if (w >= active) return count;
  return w * Math.floor(count / active) + Math.min(w, count % active);
}

/** Rows of the largest shard that any batch of at most `batchSize` rows gives one worker. */
export function shardCapacity(batchSize: number, workers: number, minRows: number): number {
  let most = 1;
  for (let count = 1; count <= batchSize; count++) most = Math.max(most, Math.ceil(count / activeWorkers(count, workers, minRows)));
  return most;
}

/** Fewest rows a training shard of this model may have. */
export function minShardRows(spec: ModelSpec): number {
  return spec.norm === 'batch' ? 2 : 1;
}

// Slices start on a 64-byte boundary, so that two workers never write the same cache line of the
// parameters, gradient or optimizer state.
const ALIGN = 16;

/**
 * First element of worker w's slice of a vector of n elements split into `parts` slices of
 * nearly equal length; worker w owns [sliceStart(n, parts, w), sliceStart(n, parts, w + 1)).
 */
export function sliceStart(n: number, parts: number, w: number): number {
  if (w >= parts) return n;
  return Math.min(n, Math.round((n * w) / parts / ALIGN) * ALIGN);
}
