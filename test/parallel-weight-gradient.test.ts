// The shared first-layer weight gradient: a worker that takes another's blocks writes exactly what
// that worker's own product would (same bits), its own db₁ and dW₁ too, and a wait for a partner that
// never publishes ends when the engine aborts. Two workers are played in one thread here; the
// engine's equivalence tests run them for real.
import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import { layoutOf, view } from '../src/nn/layout.js';
import { alignedSharedFloats, sharedFloats } from '../src/nn/model.js';
import { resolveSpec } from '../src/nn/spec.js';
import { Control, type ShardBuffers, Word } from '../src/train/parallel/protocol.js';
import { SharedWeightGradient } from '../src/train/parallel/weight-gradient.js';
import { Rng } from './reference.js';

const layout = layoutOf(resolveSpec({ layers: [30, 50, 4] }));
const { inputs, outputs } = layout.layers[0];
const ROWS = [7, 5, 9];

function setup(workers = 2) {
  const rng = new Rng(3);
  const control = Control.create(workers);
  const random = (length: number) => {
    const x = sharedFloats(length);
    for (let i = 0; i < length; i++) x[i] = rng.uniform(-1, 1);
    return x;
  };
  const shards: ShardBuffers[] = ROWS.slice(0, workers).map((rows) => ({
    input: random(rows * inputs),
    firstDz: random(rows * outputs),
    packedInput: alignedSharedFloats(native.packedBSize(inputs, rows)),
  }));
  const slots = sharedFloats(workers * layout.paramCount).fill(NaN);
  const slot = (u: number) => slots.subarray(u * layout.paramCount, (u + 1) * layout.paramCount);
  return { control, shards, slots, slot };
}

/** What one product per worker gives: dW₁ = dZ₁ᵀ·X and db₁ = column sums of dZ₁. */
function expected(shard: ShardBuffers, rows: number) {
  const dW = new Float32Array(outputs * inputs);
  native.sgemm(true, false, outputs, inputs, rows, 1, shard.firstDz, outputs, shard.input, inputs, 0, dW, inputs);
  const db = new Float32Array(outputs);
  native.columnSums(shard.firstDz, rows, outputs, db, 0);
  return { dW, db };
}

/** Worker u's blocks as published for `step`, none of them taken yet. */
function publish(control: Control, u: number, shard: ShardBuffers, rows: number, step: number): void {
  native.packB(false, inputs, rows, shard.input, inputs, 0, inputs, 0, rows, shard.packedInput);
  const words = control.blocks(u);
  control.ints[words.rows] = rows;
  control.ints[words.next] = 0;
  control.ints[words.step] = step;
}

describe('the shared first-layer weight gradient', () => {
  it("gives the bits of each worker's own product, whoever computed its blocks", () => {
    const { control, shards, slots, slot } = setup();
    const zero = new SharedWeightGradient(control, 0, layout, shards, slots, 0);
    // Worker 1 published its blocks and took none: worker 0 takes its own, then all of worker 1's.
    publish(control, 1, shards[1], ROWS[1], 1);
    zero.begin(1);
    zero.compute(shards[0].input, shards[0].firstDz, ROWS[0]);
    expect(zero.finish()).toBe(true);
    expect(control.ints[control.blocks(1).next]).toBeGreaterThan(1);

    for (const u of [0, 1]) {
      const want = expected(shards[u], ROWS[u]);
      expect(view(slot(u), layout.layers[0].weight)).toEqual(want.dW);
      if (u === 0) expect(view(slot(u), layout.layers[0].bias)).toEqual(want.db);
    }
  });

  it('with nothing of its own (an empty shard), publishes no blocks and still takes the others', () => {
    const { control, shards, slots, slot } = setup();
    const zero = new SharedWeightGradient(control, 0, layout, shards, slots, 0);
    publish(control, 1, shards[1], ROWS[1], 4);
    zero.begin(4);
    expect(zero.finish()).toBe(true);
    const own = control.blocks(0);
    expect(control.ints[own.step]).toBe(4);
    expect(control.ints[own.next]).toBeGreaterThanOrEqual(1);
    expect(view(slot(1), layout.layers[0].weight)).toEqual(expected(shards[1], ROWS[1]).dW);
    expect(view(slot(0), layout.layers[0].weight).every(Number.isNaN)).toBe(true);
  });

  it('takes the blocks of every partner, three workers, whichever published first', () => {
    const { control, shards, slots, slot } = setup(3);
    const one = new SharedWeightGradient(control, 1, layout, shards, slots, 0);
    publish(control, 0, shards[0], ROWS[0], 9);
    publish(control, 2, shards[2], ROWS[2], 9);
    one.begin(9);
    one.compute(shards[1].input, shards[1].firstDz, ROWS[1]);
    expect(one.finish()).toBe(true);
    for (const u of [0, 1, 2]) expect(view(slot(u), layout.layers[0].weight)).toEqual(expected(shards[u], ROWS[u]).dW);
  });

  it('stops waiting for a partner that never publishes once the engine aborts', () => {
    const { control, shards, slots } = setup();
    const zero = new SharedWeightGradient(control, 0, layout, shards, slots, 0);
    zero.begin(2);
    // (finish() blocks this thread: the abort is raised before it, as a failing worker's would be.)
    Atomics.store(control.ints, Word.Abort, 1);
    expect(zero.finish()).toBe(false);
  });
});
