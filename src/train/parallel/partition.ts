// How work is split among W workers: the rows of a batch into contiguous shards, and the
// parameter vector into the slices each worker reduces and updates. Plain arithmetic, so that
// every worker computes the same split without being told.

/**
 * First row of worker w's shard when `count` rows are split into `parts` contiguous shards whose
 * sizes differ by at most one (the first count % parts shards take one row more). Worker w's rows
 * are [shardStart(count, parts, w), shardStart(count, parts, w + 1)). With count < parts, the
 * shards of workers count … parts−1 are empty.
 */
export function shardStart(count: number, parts: number, w: number): number {
  return w * Math.floor(count / parts) + Math.min(w, count % parts);
}

/** Workers whose shard of a `count`-row batch is not empty. */
export function activeWorkers(count: number, parts: number): number {
  return Math.min(count, parts);
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
