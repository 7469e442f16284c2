// The weight gradients of the whole minibatch, computed once instead of once per shard and summed.
// A layer's dW = dZᵀ·X is a third of a step's work, and its bias gradient db the column sums of dZ.
// The shards' rows lie one after the other in shared buffers (BatchBuffers), so over the batch these
// are single products. Each worker, as its backward pass reaches a layer, packs its rows of the layer's
// input X into the shared packed operand and publishes the layer; once every shard has, the product
// is cut into row blocks of dW that any worker takes (Atomics.add on counters), computes into slot 0
// and checks while the block is still in cache. The first block of a layer also sums db, and the norm
// layer's gradients over the slots. Each worker owns a contiguous 1/W of a layer's blocks and takes
// its own first, then what is left of the others': the rows it updated last step, and their optimizer
// state, are then still in its caches. (784-1024-1024-10, 2 workers on cores that share no cache: a
// step 1–3% faster with this and the packed X written past the caches there, as the weights are
// (round-trip.ts), than taking every block from one counter with cached stores.)
//
// Against every worker writing its shard's dW into its slot and the workers then summing the slots
// (the reduce-scatter): no pass over W slots of the parameter count, which is memory-bound (0.5 ms a
// step for 784-1024-1024-10 on 2 workers); products of the batch's depth, not the shard's, which run
// nearer the peak; and a worker done early with its shard takes more blocks instead of waiting at the
// barrier. When every shard is full, each element of dW sums the batch's rows in order, as the serial
// engine's product does. (Not for a model whose first layer holds most of the weights: gradientsOverBatch.)
//
// The update goes with the blocks when the step's gradient is known to be finite before it is
// computed: each shard publishes max |dZ| and max |X| with a layer, and |dW| ≤ rows · max|dZ| · max|X|
// (every partial sum too), so when that bound is far below the float range for every layer, whoever
// computes a block applies the optimizer to its rows and packs them while the gradient is in cache.
// Such a block is computed into a scratch buffer of the worker's, not slot 0: nothing reads it after
// the update, and 7.4 MB of gradient a step (784-1024-1024-10) no longer pass through the caches.
// The step then needs no barrier between the gradient and the update, no pass that streams the
// gradient back from memory, and the update is shared out as the blocks are. Otherwise (a bound too
// large, or norm layers, whose gradients are summed over the slots) the gradient is checked, and the
// workers update their slices after a barrier.
import { native } from '../../native.js';
import { type DenseLayout, type Layout, type TensorInfo, view } from '../../nn/layout.js';
import type { WeightGradientHook } from '../../nn/network.js';
import { waitForChange } from './barrier.js';
import type { BatchBuffers, Control } from './protocol.js';

/** Blocks a layer's weight gradient is cut into at most: enough to even out a step, each still a product of its own. */
const MAX_BLOCKS = 16;
/** Rows of dW a block has at least. */
const MIN_BLOCK_ROWS = 16;
/**
 * A layer's gradient bound (rows · max|dZ| · max(1, max|X|), the 1 for db) below which the gradient is
 * finite: far enough under the float maximum (3.4e38) that rounding cannot carry a sum past it.
 */
const FINITE_BOUND = 1e37;

/** Rows [row0, row1) of a layer's weight. */
export interface RowRange {
  row0: number;
  row1: number;
}

/**
 * Per layer, the row blocks of its weight gradient: cut on the packed weights' panels
 * (`rowGroup` = native.packedBAlignment()), so that the rows a block updates can be packed alone.
 */
export function weightBlocks(layout: Layout, rowGroup: number): RowRange[][] {
  return layout.layers.map((l) => {
    const rows = Math.ceil(Math.max(MIN_BLOCK_ROWS, Math.ceil(l.outputs / MAX_BLOCKS)) / rowGroup) * rowGroup;
    const blocks: RowRange[] = [];
    for (let row0 = 0; row0 < l.outputs; row0 += rows) blocks.push({ row0, row1: Math.min(l.outputs, row0 + rows) });
    return blocks;
  });
}

/**
 * Whether the data-parallel workers compute the weight gradients over the batch, rather than each over
 * its shard into its own slot and then summing the slots (which is what a shard run in chunks does).
 * Measured on 2 workers, over the batch was 3–5% faster for 784-1024-1024-10 at batch 256, and 4–10%
 * slower for 784-128-10 at batch 128 and 512, whose sum over the slots is small (0.1 million weights)
 * and whose work is mostly the first layer's row blocks, skinny products that each stream the whole
 * batch's packed input (computing only that layer by shard did not win it back). The rule that
 * separates them: over the batch unless the first layer holds most of the weights.
 */
export function gradientsOverBatch(layout: Layout): boolean {
  const [first, ...rest] = layout.layers;
  return rest.reduce((n, l) => n + l.inputs * l.outputs, 0) >= first.inputs * first.outputs;
}

/**
 * Whether the update may go with the blocks for a model without norm layers: the maxima cost each
 * worker a pass over its shard's X and dZ of every layer, and save it a pass over its share of the
 * gradient and a barrier; they pay when the share is the larger (784-1024-1024-10 at batch 256 on 2
 * workers: 0.93 million floats against 0.63; 784-128-10 at batch 512: 51 thousand against 269).
 */
export function updateWithBlocksPays(layout: Layout, workers: number, capacity: number): boolean {
  const pass = layout.layers.reduce((n, l) => n + capacity * (l.inputs + l.outputs), 0);
  return layout.paramCount / workers > pass;
}

/** Worker w's rows of the batch buffers: its shard network's x and dz. */
export function shardRows(batch: BatchBuffers, layout: Layout, w: number): { x: Float32Array[]; dz: Float32Array[] } {
  const rows = (list: Float32Array[], width: (l: DenseLayout) => number) =>
    list.map((buffer, i) => buffer.subarray(w * batch.capacity * width(layout.layers[i]), (w + 1) * batch.capacity * width(layout.layers[i])));
  return { x: rows(batch.x, (l) => l.inputs), dz: rows(batch.dz, (l) => l.outputs) };
}

/**
 * Applies the optimizer to the rows of block b of the layer's weight from their gradient dW (with
 * block 0, to the layer's bias too, from slot 0), and packs them.
 */
export type BlockUpdate = (layer: number, block: number, dW: Float32Array) => void;

interface Block extends RowRange {
  /** Its rows of dW in slot 0. */
  dW: Float32Array;
  /** The batch's dZ from column row0 on (op(A) of its product: dZ's columns [row0, row1), transposed). */
  dz: Float32Array;
}

interface LayerGradient {
  inputs: number;
  outputs: number;
  blocks: Block[];
  /** This worker's rows of the batch's dZ and X, whose maxima it publishes. */
  ownDz: Float32Array;
  ownX: Float32Array;
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
  /** Whether this epoch's packed X goes past the caches (round-trip.ts). */
  pastCaches = false;
  /** Shards with rows this step: the first ones. */
  private active = 0;
  /** Layers of its own shard published this step. */
  private publishedLayers = 0;
  private finite = true;
  /** Whether the update goes with the blocks this step, once decided (when every shard has published every layer). */
  private decided = false;
  private updated = false;
  /** Blocks this worker computed before that was decided: (layer, block) pairs. */
  private readonly pending: Int32Array;
  private pendingCount = 0;
  /** Where a block whose update goes with it is computed: as large as the largest block. */
  private readonly scratch: Float32Array;

  /** `update`: the optimizer step that goes with the blocks when the gradient is bounded (null: never). */
  constructor(
    private readonly control: Control,
    private readonly w: number,
    layout: Layout,
    private readonly batch: BatchBuffers,
    private readonly slots: Float32Array,
    private readonly spinMicros: number,
    private readonly update: BlockUpdate | null,
  ) {
    this.depth = control.workers * batch.capacity;
    this.paramCount = layout.paramCount;
    const slot0 = slots.subarray(0, layout.paramCount);
    const ranges = weightBlocks(layout, native.packedBAlignment());
    const own = shardRows(batch, layout, w);
    this.layers = layout.layers.map((l, i) => {
      const dW = view(slot0, l.weight);
      const blocks = ranges[i].map((r) => ({ ...r, dW: dW.subarray(r.row0 * l.inputs, r.row1 * l.inputs), dz: batch.dz[i].subarray(r.row0) }));
      const norm = l.norm ? [l.norm.weight, l.norm.bias] : [];
      return { inputs: l.inputs, outputs: l.outputs, blocks, ownDz: own.dz[i], ownX: own.x[i], dBias: view(slot0, l.bias), norm };
    });
    this.pending = new Int32Array(2 * ranges.reduce((n, blocks) => n + blocks.length, 0));
    this.scratch = new Float32Array(update ? Math.max(...this.layers.flatMap((l) => l.blocks.map((b) => b.dW.length))) : 0);
  }

  /** Before step `step` (counted over epochs, from 1), in which the first `active` shards have rows. */
  begin(step: number, active: number): void {
    this.step = step;
    this.active = active;
    this.publishedLayers = 0;
    this.finite = true;
    this.decided = this.update === null;
    this.updated = false;
    this.pendingCount = 0;
  }

  /**
   * For backward: zeroes the rows of the layer's X and dZ after the shard's, packs its X, notes the
   * maxima that bound the gradient (when the update may go with the blocks), publishes the layer.
   */
  readonly publish: WeightGradientHook = (layer, rows) => {
    const { inputs, outputs, ownDz, ownX } = this.layers[layer];
    const { capacity, x, dz, packedX } = this.batch;
    const first = this.w * capacity;
    const end = first + capacity;
    if (rows < capacity) {
      x[layer].fill(0, (first + rows) * inputs, end * inputs);
      dz[layer].fill(0, (first + rows) * outputs, end * outputs);
    }
    native.packB(false, inputs, this.depth, x[layer], inputs, 0, inputs, first, end, packedX[layer], this.pastCaches);
    if (this.update) {
      const at = this.control.maxima(this.w, layer);
      this.control.floats[at] = rows > 0 ? native.maxAbs(ownDz, rows * outputs) : 0;
      this.control.floats[at + 1] = rows > 0 ? native.maxAbs(ownX, rows * inputs) : 0;
    }
    this.stamp(layer, this.step);
    this.publishedLayers++;
  };

  /**
   * After this worker's backward pass, or instead of it (an empty shard publishes its zeros here, one
   * whose forward pass was not finite that it has no gradient): takes blocks, from the last layer
   * down, until none is left, a layer's once every shard has published it. With the update when it
   * goes with the blocks: the blocks taken before that could be decided are updated once it is. A
   * shard without a gradient ends the taking for all. False when the engine aborted.
   */
  finish(): boolean {
    const L = this.layers.length;
    if (this.w >= this.active) for (let layer = this.publishedLayers; layer < L; layer++) this.publish(layer, 0);
    else if (this.publishedLayers < L) for (let layer = 0; layer < L; layer++) this.stamp(layer, -this.step);
    const { ints } = this.control;
    for (let layer = L - 1; layer >= 0; layer--) {
      const ready = this.awaitLayer(layer);
      if (ready !== 1) return ready === 0;
      const count = this.layers[layer].blocks.length;
      const W = this.control.workers;
      for (let k = 0; k < W; k++) {
        const owner = (this.w + k) % W;
        const first = Math.floor((count * owner) / W);
        const end = Math.floor((count * (owner + 1)) / W);
        const next = this.control.nextBlock(layer, owner);
        for (let b = first + Atomics.add(ints, next, 1); b < end; b = first + Atomics.add(ints, next, 1)) {
          if (!this.decided) this.decide();
          const dW = this.compute(layer, b);
          if (this.updated) this.update!(layer, b, dW);
          else if (!this.decided) this.defer(layer, b);
        }
      }
    }
    if (!this.decided) this.decide();
    return true;
  }

  /** Whether every block this worker computed this step was finite. */
  get allFinite(): boolean {
    return this.finite;
  }

  /** Whether the step's update went with the blocks (the step is then applied). */
  get updatedWithBlocks(): boolean {
    return this.updated;
  }

  /** Readies the block counters for the next step: once per step, by one worker, after every worker finished. */
  reset(): void {
    for (let layer = 0; layer < this.layers.length; layer++)
      for (let w = 0; w < this.control.workers; w++) Atomics.store(this.control.ints, this.control.nextBlock(layer, w), 0);
  }

  /** 1 once every shard has published the layer, 0 if one has no gradient this step, -1 when the engine aborted. */
  private awaitLayer(layer: number): number {
    const { ints } = this.control;
    for (let u = 0; u < this.control.workers; u++) {
      const word = this.control.published(u, layer);
      for (let seen = Atomics.load(ints, word); Math.abs(seen) !== this.step; seen = Atomics.load(ints, word))
        if (!waitForChange(ints, word, seen, this.spinMicros)) return -1;
      if (ints[word] < 0) return 0;
    }
    return 1;
  }

  /**
   * Once every shard has published every layer (the first layer is published last), whether the update
   * goes with the blocks; if it does, updates the blocks taken before.
   */
  private decide(): void {
    const { ints } = this.control;
    for (let u = 0; u < this.control.workers; u++) if (Atomics.load(ints, this.control.published(u, 0)) !== this.step) return;
    this.decided = true;
    this.updated = this.bounded();
    if (!this.updated) return;
    for (let i = 0; i < this.pendingCount; i += 2) {
      const layer = this.pending[i];
      const b = this.pending[i + 1];
      this.update!(layer, b, this.layers[layer].blocks[b].dW);
    }
  }

  private defer(layer: number, b: number): void {
    this.pending[this.pendingCount++] = layer;
    this.pending[this.pendingCount++] = b;
  }

  /** Whether every layer's gradient is bounded well inside the float range (the same answer on every worker). */
  private bounded(): boolean {
    const { floats } = this.control;
    for (let layer = 0; layer < this.layers.length; layer++) {
      let dz = 0;
      let x = 0;
      for (let u = 0; u < this.control.workers; u++) {
        const at = this.control.maxima(u, layer);
        dz = Math.max(dz, floats[at]);
        x = Math.max(x, floats[at + 1]);
      }
      // (NaN compares false: a shard's non-finite dZ or X fails the bound.)
      if (!(this.depth * dz * Math.max(1, x) < FINITE_BOUND)) return false;
    }
    return true;
  }

  /**
   * Block b of the layer's dW, in the scratch buffer when the update goes with it, else in slot 0 and
   * checked; with the first block, db and the norm gradients. Returns where dW is.
   */
  private compute(layer: number, b: number): Float32Array {
    const { inputs, outputs, blocks, dBias, norm } = this.layers[layer];
    const { dz, packedX } = this.batch;
    const block = blocks[b];
    const dW = this.updated ? this.scratch.subarray(0, block.dW.length) : block.dW;
    native.sgemmPackedB(true, block.row1 - block.row0, inputs, this.depth, 1, block.dz, outputs, packedX[layer], 0, dW, inputs);
    if (b === 0) {
      native.columnSums(dz[layer], this.depth, outputs, dBias, 0);
      for (const t of norm) this.check(native.reduceSlots(this.slots, this.active, this.paramCount, t.offset, t.offset + t.size));
    }
    if (!this.updated) this.check(Math.max(native.maxAbs(dW, dW.length), b === 0 ? native.maxAbs(dBias, outputs) : 0));
    return dW;
  }

  private check(maxAbs: number): void {
    if (!Number.isFinite(maxAbs)) this.finite = false;
  }

  /** Stamps a layer of this worker's shard and wakes whoever sleeps waiting for it. */
  private stamp(layer: number, value: number): void {
    const { ints } = this.control;
    const word = this.control.published(this.w, layer);
    Atomics.store(ints, word, value);
    Atomics.notify(ints, word);
  }
}
