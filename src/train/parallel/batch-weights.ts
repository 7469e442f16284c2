// The weight gradients over the whole batch, a phase of the data-parallel step for large weights.
// A layer's dW = dZᵀ·X sums over the batch's rows, and the workers' shards lie one after the other
// in shared buffers (worker w's rows at [w·capacity, (w + 1)·capacity), zeros after a shorter
// shard): once every worker has published a layer, the rows of its dW in a piece of the parameters
// are computed over the whole batch into slot 0 by whichever worker takes the piece (worker.ts: in
// the update itself when the step's gradient is bounded, or ahead of the gradient barrier by a
// worker that waits there). The biases and norm parameters are still summed over the slots. Against
// every worker computing a whole dW over its shard into its own slot and the slots then summed: the
// same multiply-adds, but no pass over W slots of the weights, which is memory-bound and grows with
// the weights. Each worker packs its own rows of every layer's X into a shared operand as it would
// inside its own product; what grows with the batch's layer inputs is that every worker then reads
// the whole batch's X and dZ, written by the others. Hence weightsOverBatch.
import { type DenseParams, type PackedArray, type Precision, allocatePackedInput, denseWeightRows, packDenseInput } from '../../nn/dense.js';
import type { Layout } from '../../nn/layout.js';
import type { LayerInputs } from '../../nn/network.js';
import { sharedFloats } from '../../util/shared-memory.js';

/** Per layer, every worker's rows of its X and dZ, and X packed for the products over the batch. */
export interface BatchBuffers extends LayerInputs {
  /** Rows of one worker's part: its shard's capacity, made even (bf16 packs depths in pairs). */
  stride: number;
  packedX: PackedArray[];
  /** Per layer, the workers that published it in the current step (restarted at the step's gradient barrier). */
  published: Int32Array;
}

/**
 * Whether the weight gradients are computed over the batch's `rows` rows: when the weights outnumber
 * the floats of the batch's layer inputs (rows × the layers' inputs summed), the slot pass this saves
 * costs more than the reading of the others' rows it adds. On bench:scaling's nets with 2 workers:
 * 784-1024-1024-10 at batch 256 (1.86 million weights against 0.73 million), not 784-128-10 at
 * batch 128 or 512 (0.10 million against 0.12 and 0.47).
 */
export function weightsOverBatch(layout: Layout, rows: number): boolean {
  const weights = layout.layers.reduce((n, l) => n + l.inputs * l.outputs, 0);
  return weights > rows * layout.layers.reduce((n, l) => n + l.inputs, 0);
}

/** The batch buffers of `workers` shards of up to `capacity` rows. */
export function createBatchBuffers(layout: Layout, workers: number, capacity: number, precision: Precision): BatchBuffers {
  const stride = capacity + (capacity % 2);
  return {
    stride,
    x: layout.layers.map((l) => sharedFloats(workers * stride * l.inputs)),
    dz: layout.layers.map((l) => sharedFloats(workers * stride * l.outputs)),
    packedX: layout.layers.map((l) => allocatePackedInput(l.inputs, workers * stride, precision)),
    published: new Int32Array(new SharedArrayBuffer(4 * layout.layers.length)),
  };
}

/** Worker w's rows of the batch buffers: its network's x and dz. */
export function shardBuffers(batch: BatchBuffers, layout: Layout, w: number): LayerInputs {
  const rows = (buffer: Float32Array, width: number) => buffer.subarray(w * batch.stride * width, (w + 1) * batch.stride * width);
  return { x: batch.x.map((b, i) => rows(b, layout.layers[i].inputs)), dz: batch.dz.map((b, i) => rows(b, layout.layers[i].outputs)) };
}

/** One worker's part: its rows of the batch buffers, and any rows of dW over the whole batch. */
export class BatchWeightGradients {
  private readonly own: LayerInputs;
  /** Rows of the batch buffers, and its first. */
  private readonly depth: number;
  private readonly first: number;

  /** `layers`: its network's dense layers. */
  constructor(
    private readonly batch: BatchBuffers,
    layout: Layout,
    private readonly workers: number,
    w: number,
    private readonly layers: DenseParams[],
  ) {
    this.own = shardBuffers(batch, layout, w);
    this.depth = workers * batch.stride;
    this.first = w * batch.stride;
  }

  /**
   * After its backward pass over its shard's `rows` rows (0: none): zeros its rows after them, which
   * the products over the batch read too, and packs its rows of every layer's X (past the caches:
   * every other worker reads them next, and no line is first taken back from their caches).
   */
  publish(rows: number): void {
    for (let i = 0; i < this.layers.length; i++) this.publishLayer(i, rows);
  }

  /** Layer i's part of publish, as soon as its dZ is complete (its X was, since the forward pass). */
  publishLayer(i: number, rows: number): void {
    const { stride, x, packedX, published } = this.batch;
    const l = this.layers[i];
    if (rows < stride) {
      this.own.x[i].fill(0, rows * l.inputs);
      this.own.dz[i].fill(0, rows * l.outputs);
    }
    packDenseInput(l, x[i], this.depth, this.first, this.first + stride, packedX[i], true);
    Atomics.add(published, i, 1);
  }

  /** Before the next step: no layer published. */
  restart(): void {
    this.batch.published.fill(0);
  }

  /** Whether every worker published layer i in this step. */
  ready(i: number): boolean {
    return Atomics.load(this.batch.published, i) === this.workers;
  }

  /** Once every worker published: rows [row0, row1) of the layer's dW over the batch, into `dW` (those rows only). */
  rows(layer: number, row0: number, row1: number, dW: Float32Array): void {
    denseWeightRows(this.layers[layer], this.batch.packedX[layer], this.batch.dz[layer], this.depth, row0, row1, dW);
  }
}
