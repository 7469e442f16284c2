// The weight gradients over the whole batch, a phase of the data-parallel step for large weights.
// A layer's dW = dZᵀ·X sums over the batch's rows, and the workers' shards lie one after the other
// in shared buffers (worker w's rows at [w·capacity, (w + 1)·capacity), zeros after a shorter
// shard): after the gradient barrier, each worker computes the rows of dW inside its parameter slice
// over the whole batch, straight into slot 0. The biases and norm parameters are still summed over
// the slots. Against every worker computing a whole dW over its shard into its own slot and the
// slots then summed: the same multiply-adds, but no pass over W slots of the weights, which is
// memory-bound and grows with the weights; in its place every worker packs the whole batch's X of
// the layers it has rows of, which grows with the batch's layer inputs. Hence weightsOverBatch.
import type { DenseParams } from '../../nn/dense.js';
import { denseWeightRows } from '../../nn/dense.js';
import { type Layout, view } from '../../nn/layout.js';
import { native } from '../../native.js';
import type { LayerInputs } from '../../nn/network.js';
import { sharedFloats } from '../../util/shared-memory.js';

/** Every worker's rows of each layer's X and dZ: W × capacity rows per layer. */
export interface BatchBuffers extends LayerInputs {
  /** Rows of one worker's shard. */
  capacity: number;
}

/**
 * Whether the weight gradients are computed over the batch's `rows` rows: when the weights outnumber
 * the floats of the batch's layer inputs (rows × the layers' inputs summed), the slot pass this saves
 * costs more than the packing it adds. On bench:scaling's nets with 2 workers: 784-1024-1024-10 at
 * batch 256 (1.86 million weights against 0.73 million), not 784-128-10 at batch 128 or 512 (0.10
 * million against 0.12 and 0.47).
 */
export function weightsOverBatch(layout: Layout, rows: number): boolean {
  const weights = layout.layers.reduce((n, l) => n + l.inputs * l.outputs, 0);
  return weights > rows * layout.layers.reduce((n, l) => n + l.inputs, 0);
}

export function createBatchBuffers(layout: Layout, workers: number, capacity: number): BatchBuffers {
  return {
    capacity,
    x: layout.layers.map((l) => sharedFloats(workers * capacity * l.inputs)),
    dz: layout.layers.map((l) => sharedFloats(workers * capacity * l.outputs)),
  };
}

/** Worker w's rows of the batch buffers: its network's x and dz. */
export function shardBuffers(batch: BatchBuffers, layout: Layout, w: number): LayerInputs {
  const rows = (buffer: Float32Array, width: number) => buffer.subarray(w * batch.capacity * width, (w + 1) * batch.capacity * width);
  return { x: batch.x.map((b, i) => rows(b, layout.layers[i].inputs)), dz: batch.dz.map((b, i) => rows(b, layout.layers[i].outputs)) };
}

/** One worker's part: its shard's rows of the batch buffers, and the rows of dW inside its slice. */
export class BatchWeightGradients {
  private readonly own: LayerInputs;
  /** Per layer, its rows of dW in slot 0. */
  private readonly dW: Float32Array[];

  /** `layers`: its network's dense layers; `rows`: per layer, the rows [row0, row1) of its weight in the worker's slice. */
  constructor(
    private readonly batch: BatchBuffers,
    layout: Layout,
    w: number,
    private readonly layers: DenseParams[],
    slot0: Float32Array,
    private readonly rows: [number, number][],
  ) {
    this.own = shardBuffers(batch, layout, w);
    this.dW = layout.layers.map((l, i) => view(slot0, l.weight).subarray(rows[i][0] * l.inputs, rows[i][1] * l.inputs));
  }

  /** After its backward pass over `rows` rows: zeros its rows after them, which the products over the batch read too. */
  padShard(rows: number): void {
    if (rows >= this.batch.capacity) return;
    this.layers.forEach((l, i) => {
      this.own.x[i].fill(0, rows * l.inputs);
      this.own.dz[i].fill(0, rows * l.outputs);
    });
  }

  /** Its rows of every layer's dW over the first `active` shards, into slot 0; returns their max |value|. */
  compute(active: number): number {
    const depth = active * this.batch.capacity;
    let top = 0;
    for (let i = 0; i < this.layers.length; i++) {
      const [row0, row1] = this.rows[i];
      if (row0 >= row1) continue;
      const dW = this.dW[i];
      denseWeightRows(this.layers[i], this.batch.x[i], this.batch.dz[i], depth, row0, row1, dW);
      top = Math.max(top, native.maxAbs(dW, dW.length));
    }
    return top;
  }
}
