// The first layer's weight gradient dW₁ = dZ₁ᵀ·X is the last product of a worker's backward pass:
// half of its work for 784-128-10 (12.8 of 26 MFLOP a 64-row shard), a sixth for 784-1024-1024-10.
// The workers share it out in row blocks: each publishes its blocks, takes its own, then takes what
// is left of the others', so a worker that finished early (the cores of a shared machine do not run
// at the same speed from one step to the next) shortens the step instead of waiting at the barrier
// for the slowest. Shards stay as they are; only who computes a block of a shard's product changes.
//
// A block computes its rows of dW₁ exactly as the whole product would (each element sums the same
// rows in the same order; X is packed once, as the whole product packs it), so the gradient has the
// same bits whoever computed which block, and a single worker's are the serial engine's.
import { native } from '../../native.js';
import { type Layout, view } from '../../nn/layout.js';
import type { FirstLayerWeightGrad } from '../../nn/network.js';
import { waitForChange } from './barrier.js';
import type { Control, ShardBuffers } from './protocol.js';

/** Blocks per shard: enough to even out a step, few enough that each stays a product of its own. */
const BLOCKS = 8;

/** One block of one worker's dW₁: views made once, so that taking a block allocates nothing. */
interface Block {
  /** Columns [row0, row1) of that worker's dZ₁ (op(A) = its transpose), from row0 on. */
  dz: Float32Array;
  /** Rows [row0, row1) of dW₁ in that worker's gradient slot. */
  dW: Float32Array;
  rows: number;
}

export class SharedWeightGradient {
  private readonly inputs: number;
  private readonly outputs: number;
  private readonly words: { step: number; next: number; rows: number }[];
  /** blocks[u][b]: block b of worker u. */
  private readonly blocks: Block[][];
  /** This worker's db₁, in its slot. */
  private readonly dBias: Float32Array;
  private step = 0;
  private published = false;
  /** Per worker, whether finish() took what was left of its blocks this step. */
  private readonly helped: Uint8Array;

  constructor(
    private readonly control: Control,
    private readonly w: number,
    layout: Layout,
    private readonly shards: ShardBuffers[],
    slots: Float32Array,
    private readonly spinMicros: number,
  ) {
    const first = layout.layers[0];
    this.inputs = first.inputs;
    this.outputs = first.outputs;
    const blockRows = Math.ceil(first.outputs / BLOCKS);
    const slot = (u: number) => slots.subarray(u * layout.paramCount, (u + 1) * layout.paramCount);
    this.dBias = view(slot(w), first.bias);
    this.words = shards.map((_, u) => control.blocks(u));
    this.helped = new Uint8Array(shards.length);
    this.blocks = shards.map((shard, u) => {
      const dW = view(slot(u), first.weight);
      const list: Block[] = [];
      for (let r0 = 0; r0 < first.outputs; r0 += blockRows) {
        const r1 = Math.min(first.outputs, r0 + blockRows);
        list.push({ dz: shard.firstDz.subarray(r0), dW: dW.subarray(r0 * first.inputs, r1 * first.inputs), rows: r1 - r0 });
      }
      return list;
    });
  }

  /** Before step `step` (counted over epochs, from 1) starts. */
  begin(step: number): void {
    this.step = step;
    this.published = false;
  }

  /**
   * For backward: packs X, writes db₁, publishes this worker's blocks and takes them until none is
   * left. The others' blocks wait for finish().
   */
  readonly compute: FirstLayerWeightGrad = (x, dz, rows) => {
    const { ints } = this.control;
    const me = this.words[this.w];
    const shard = this.shards[this.w];
    native.packB(false, this.inputs, rows, x, this.inputs, 0, this.inputs, 0, rows, shard.packedInput);
    native.columnSums(dz, rows, this.outputs, this.dBias, 0);
    ints[me.rows] = rows;
    Atomics.store(ints, me.next, 0);
    this.publish();
    this.take(this.w);
  };

  /**
   * After this worker's gradient (or without one: an empty shard, a forward pass that was not finite,
   * a shard run in chunks), takes what is left of every other worker's blocks once they are
   * published. False when the engine aborted.
   */
  finish(): boolean {
    const { ints } = this.control;
    if (!this.published) {
      Atomics.store(ints, this.words[this.w].next, this.blocks[this.w].length);
      this.publish();
    }
    // Partners whose blocks are published first; wait (on one of the others) only when none is.
    const W = this.shards.length;
    const helped = this.helped.fill(0);
    for (let left = W - 1; left > 0; ) {
      let waitOn = -1;
      let seen = 0;
      let took = false;
      for (let i = 1; i < W && !took; i++) {
        const u = (this.w + i) % W;
        if (helped[u]) continue;
        const stamp = Atomics.load(ints, this.words[u].step);
        if (stamp === this.step) {
          this.take(u);
          helped[u] = 1;
          left--;
          took = true;
        } else if (waitOn < 0) {
          waitOn = u;
          seen = stamp;
        }
      }
      if (!took && !waitForChange(ints, this.words[waitOn].step, seen, this.spinMicros)) return false;
    }
    return true;
  }

  /** Stamps this worker's blocks with the step and wakes whoever sleeps waiting for them. */
  private publish(): void {
    const { ints } = this.control;
    const word = this.words[this.w].step;
    Atomics.store(ints, word, this.step);
    Atomics.notify(ints, word);
    this.published = true;
  }

  /** Computes blocks of worker u's dW₁ until none is left to take. */
  private take(u: number): void {
    const { ints } = this.control;
    const words = this.words[u];
    const blocks = this.blocks[u];
    const packed = this.shards[u].packedInput;
    const rows = ints[words.rows];
    for (let b = Atomics.add(ints, words.next, 1); b < blocks.length; b = Atomics.add(ints, words.next, 1)) {
      const block = blocks[b];
      native.sgemmPackedB(true, block.rows, this.inputs, rows, 1, block.dz, this.outputs, packed, 0, block.dW, this.inputs);
    }
  }
}
