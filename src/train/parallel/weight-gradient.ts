// The weight gradients of the whole minibatch, computed once instead of once per shard and summed.
// A layer's dW = dZᵀ·X is a third of a step's work, and its bias gradient db the column sums of dZ.
// The shards' rows lie one after the other in shared buffers (BatchBuffers), so over the batch these
// are single products. Each worker, as its backward pass reaches a layer, packs its rows of the layer's
// input X into the shared packed operand and publishes the layer; once every shard has, the product
// is cut into row blocks of dW that any worker takes (Atomics.add on a counter per layer), computes
// into slot 0 and checks while the block is still in cache. The first block of a layer also sums db,
// and the norm layer's gradients over the slots.
//
// Against every worker writing its shard's dW into its slot and the workers then summing the slots
// (the reduce-scatter): no pass over W slots of the parameter count, which is memory-bound (0.5 ms a
// step for 784-1024-1024-10 on 2 workers); products of the batch's depth, not the shard's, which run
// nearer the peak; and a worker done early with its shard takes more blocks instead of waiting at the
// barrier. When every shard is full, each element of dW sums the batch's rows in order, as the serial
// engine's product does.
import { native } from '../../native.js';
import { type DenseLayout, type Layout, type TensorInfo, view } from '../../nn/layout.js';
import type { WeightGradientHook } from '../../nn/network.js';
import { waitForChange } from './barrier.js';
import type { BatchBuffers, Control } from './protocol.js';

/** Worker w's rows of the batch buffers: its shard network's x and dz. */
export function shardRows(batch: BatchBuffers, layout: Layout, w: number): { x: Float32Array[]; dz: Float32Array[] } {
  const rows = (list: Float32Array[], width: (l: DenseLayout) => number) =>
    list.map((buffer, i) => buffer.subarray(w * batch.capacity * width(layout.layers[i]), (w + 1) * batch.capacity * width(layout.layers[i])));
  return { x: rows(batch.x, (l) => l.inputs), dz: rows(batch.dz, (l) => l.outputs) };
}

/** Blocks a layer's weight gradient is cut into at most: enough to even out a step, each still a product of its own. */
const MAX_BLOCKS = 16;
/** Rows of dW a block has at least. */
const MIN_BLOCK_ROWS = 16;

/** Rows [row0, row0 + rows) of a layer's dW. */
interface Block {
  row0: number;
  rows: number;
  /** That block in slot 0. */
  dW: Float32Array;
}

interface LayerGradient {
  inputs: number;
  outputs: number;
  blocks: Block[];
  /** db in slot 0. */
  dBias: Float32Array;
  /** The norm layer's gradients, summed over the slots with the first block. */
  norm: TensorInfo[];
}

export class SharedWeightGradients {
  private readonly layers: LayerGradient[];
  /** Rows of the batch buffers: W × capacity. */
  private readonly depth: number;
  private readonly paramCount: number;
  private step = 0;
  /** Shards with rows this step: the first ones. */
  private active = 0;
  /** Layers of its own shard published this step. */
  private publishedLayers = 0;
  private finite = true;

  constructor(
    private readonly control: Control,
    private readonly w: number,
    layout: Layout,
    private readonly batch: BatchBuffers,
    private readonly slots: Float32Array,
    private readonly spinMicros: number,
  ) {
    this.depth = control.workers * batch.capacity;
    this.paramCount = layout.paramCount;
    const slot0 = slots.subarray(0, layout.paramCount);
    this.layers = layout.layers.map((l) => {
      const dW = view(slot0, l.weight);
      const blockRows = Math.max(MIN_BLOCK_ROWS, Math.ceil(l.outputs / MAX_BLOCKS));
      const blocks: Block[] = [];
      for (let row0 = 0; row0 < l.outputs; row0 += blockRows) {
        const rows = Math.min(blockRows, l.outputs - row0);
        blocks.push({ row0, rows, dW: dW.subarray(row0 * l.inputs, (row0 + rows) * l.inputs) });
      }
      return { inputs: l.inputs, outputs: l.outputs, blocks, dBias: view(slot0, l.bias), norm: l.norm ? [l.norm.weight, l.norm.bias] : [] };
    });
  }

  /** Before step `step` (counted over epochs, from 1), in which the first `active` shards have rows. */
  begin(step: number, active: number): void {
    this.step = step;
    this.active = active;
    this.publishedLayers = 0;
    this.finite = true;
  }

  /** For backward: zeroes the rows of the layer's X and dZ after the shard's, packs its X, publishes the layer. */
  readonly publish: WeightGradientHook = (layer, rows) => {
    const { inputs, outputs } = this.layers[layer];
    const { capacity, x, dz, packedX } = this.batch;
    const first = this.w * capacity;
    const end = first + capacity;
    if (rows < capacity) {
      x[layer].fill(0, (first + rows) * inputs, end * inputs);
      dz[layer].fill(0, (first + rows) * outputs, end * outputs);
    }
    native.packB(false, inputs, this.depth, x[layer], inputs, 0, inputs, first, end, packedX[layer]);
    this.stamp(layer, this.step);
    this.publishedLayers++;
  };

  /**
   * After this worker's backward pass, or instead of it (an empty shard publishes its zeros here, one
   * whose forward pass was not finite that it has no gradient): takes blocks, from the last layer
   * down, until none is left, a layer's once every shard has published it. A shard without a gradient
   * ends the taking for all. False when the engine aborted.
   */
  finish(): boolean {
    const L = this.layers.length;
    if (this.w >= this.active) for (let layer = this.publishedLayers; layer < L; layer++) this.publish(layer, 0);
    else if (this.publishedLayers < L) for (let layer = 0; layer < L; layer++) this.stamp(layer, -this.step);
    const { ints } = this.control;
    for (let layer = L - 1; layer >= 0; layer--) {
      for (let u = 0; u < this.control.workers; u++) {
        const word = this.control.published(u, layer);
        for (let seen = Atomics.load(ints, word); Math.abs(seen) !== this.step; seen = Atomics.load(ints, word))
          if (!waitForChange(ints, word, seen, this.spinMicros)) return false;
        if (ints[word] < 0) return true;
      }
      const next = this.control.nextBlock(layer);
      const blocks = this.layers[layer].blocks;
      for (let b = Atomics.add(ints, next, 1); b < blocks.length; b = Atomics.add(ints, next, 1)) this.compute(layer, b);
    }
    return true;
  }

  /** Whether every block this worker computed this step was finite. */
  get allFinite(): boolean {
    return this.finite;
  }

  /** Readies the block counters for the next step: once per step, by one worker, after every worker finished. */
  reset(): void {
    for (let layer = 0; layer < this.layers.length; layer++) Atomics.store(this.control.ints, this.control.nextBlock(layer), 0);
  }

  /** Block b of the layer's dW, checked; with the first block, db and the norm gradients. */
  private compute(layer: number, b: number): void {
    const { inputs, outputs, blocks, dBias, norm } = this.layers[layer];
    const { dz, packedX } = this.batch;
    const block = blocks[b];
    native.sgemmPackedB(true, block.rows, inputs, this.depth, 1, dz[layer].subarray(block.row0), outputs, packedX[layer], 0, block.dW, inputs);
    let top = native.maxAbs(block.dW, block.dW.length);
    if (b === 0) {
      native.columnSums(dz[layer], this.depth, outputs, dBias, 0);
      top = Math.max(top, native.maxAbs(dBias, outputs));
      for (const t of norm) top = Math.max(top, native.reduceSlots(this.slots, this.active, this.paramCount, t.offset, t.offset + t.size));
    }
    if (!Number.isFinite(top)) this.finite = false;
  }

  /** Stamps a layer of this worker's shard and wakes whoever sleeps waiting for it. */
  private stamp(layer: number, value: number): void {
    const { ints } = this.control;
    const word = this.control.published(this.w, layer);
    Atomics.store(ints, word, value);
    Atomics.notify(ints, word);
  }
}
