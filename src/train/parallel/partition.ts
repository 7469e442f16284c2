// How work is split among W workers: the rows of a batch into contiguous shards, and the
// parameter vector into the slices each worker reduces, updates and packs. Plain arithmetic, so that
// every worker computes the same split without being told.
import type { Layout } from '../../nn/layout.js';
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

/** Worker w's rows of a batch, [begin, begin + rows): the one place a worker cuts a batch. */
export class Shard {
  begin = 0;
  rows = 0;

  constructor(
    private readonly workers: number,
    private readonly w: number,
    private readonly minRows: number,
  ) {}

  /** Cuts a batch of `count` rows; returns how many workers got rows. */
  of(count: number): number {
    const active = activeWorkers(count, this.workers, this.minRows);
    this.begin = shardStart(count, active, this.w);
    this.rows = shardStart(count, active, this.w + 1) - this.begin;
    return active;
  }
}

/** The part of an evaluation over `count` samples that rank `rank` of `ranks` computes (all of them with one rank). */
export function evaluationPart(count: number, ranks: number, rank: number): Shard {
  const part = new Shard(ranks, rank, 1);
  part.of(count);
  return part;
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

// Slice boundaries outside the weight matrices fall on a 64-byte boundary, so that two workers
// never write the same cache line of the parameters, gradient or optimizer state.
const ALIGN = 16;

/**
 * Boundaries of W nearly equal slices of the parameter vector: worker w owns [bounds[w], bounds[w + 1]).
 * Inside a weight matrix cut on a multiple of `rowGroup` rows (the rows of one packed panel, which
 * one worker writes whole), elsewhere on a multiple of 16 floats.
 */
export function sliceBounds(layout: Layout, parts: number, rowGroup: number): number[] {
  const n = layout.paramCount;
  const bounds = [0];
  for (let w = 1; w < parts; w++) {
    const cut = Math.min(n, Math.round((n * w) / parts / ALIGN) * ALIGN);
    bounds.push(Math.max(bounds[w - 1], snapToRows(layout, cut, rowGroup)));
  }
  bounds.push(n);
  return bounds;
}

/** A cut inside a weight matrix moved to the nearest boundary of a group of rows. */
function snapToRows(layout: Layout, cut: number, rowGroup: number): number {
  for (const { weight, inputs, outputs } of layout.layers) {
    if (cut <= weight.offset || cut >= weight.offset + weight.size) continue;
    const rows = Math.round((cut - weight.offset) / inputs / rowGroup) * rowGroup;
    return weight.offset + Math.min(rows, outputs) * inputs;
  }
  return cut;
}

/**
 * A piece of a worker's slice, whose gradient is made, applied and packed in one go while it is in
 * the core's cache: whole groups of rows [row0, row1) of one weight matrix, [begin, weightEnd), then
 * when they are its last rows what follows the matrix up to the next one (biases, norm parameters),
 * [weightEnd, end). A piece before any weight matrix of the slice has no rows: layer -1, weightEnd = begin.
 */
export interface SlicePiece {
  begin: number;
  weightEnd: number;
  end: number;
  layer: number;
  row0: number;
  row1: number;
}

/**
 * The slice [begin, end) cut into pieces of about `target` floats of weights (at least one group of
 * rows), in order. `begin` and `end` are bounds from sliceBounds with the same `rowGroup`.
 */
export function slicePieces(layout: Layout, begin: number, end: number, rowGroup: number, target: number): SlicePiece[] {
  const nextMatrix = (at: number) => Math.min(end, ...layout.layers.map(({ weight }) => weight.offset).filter((o) => o > at));
  const pieces: SlicePiece[] = [];
  let at = begin;
  while (at < end) {
    const layer = layout.layers.findIndex(({ weight }) => at >= weight.offset && at < weight.offset + weight.size);
    if (layer < 0) {
      const stop = nextMatrix(at);
      pieces.push({ begin: at, weightEnd: at, end: stop, layer, row0: 0, row1: 0 });
      at = stop;
      continue;
    }
    const { weight, inputs, outputs } = layout.layers[layer];
    const row0 = (at - weight.offset) / inputs;
    const rows = Math.max(1, Math.floor(target / inputs / rowGroup)) * rowGroup;
    const row1 = Math.min(outputs, row0 + rows, Math.ceil((end - weight.offset) / inputs));
    const weightEnd = weight.offset + row1 * inputs;
    const stop = row1 === outputs ? nextMatrix(weightEnd - 1) : weightEnd;
    pieces.push({ begin: at, weightEnd, end: stop, layer, row0, row1 });
    at = stop;
  }
  return pieces;
}

/** Rows of a worker's shard: the largest any batch of at most `batchSize` rows gives it, over `ranks` ranks of `workers` workers. */
export function workerCapacity(batchSize: number, ranks: number, workers: number, minRows: number): number {
  return shardCapacity(shardCapacity(batchSize, ranks, minRows), workers, minRows);
}
