// The weight gradients over the whole batch (weight-gradient.ts): whoever takes the blocks, each
// layer's dW and db are one product over the batch's rows in order (the same bits), a short or empty
// shard adds nothing, a non-finite block is flagged, a shard without a gradient ends the taking, and
// a wait for a partner that never publishes ends when the engine aborts. Workers are played one
// after another in this thread; the engine's equivalence tests run them for real.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import { layoutOf, view } from '../src/nn/layout.js';
import { alignedSharedFloats, sharedFloats } from '../src/nn/model.js';
import { type ModelSpec, resolveSpec } from '../src/nn/spec.js';
import { Control, type BatchBuffers, Word } from '../src/train/parallel/protocol.js';
import { type BlockUpdate, SharedWeightGradients, gradientsOverBatch, updateWithBlocksPays, weightBlocks } from '../src/train/parallel/weight-gradient.js';
import { Rng } from './reference.js';

const LAYERS = [30, 40, 20, 4];

/**
 * W workers with shards of `capacity` rows; every buffer starts as NaN, so that whatever is read
 * unwritten shows. `update` goes with the blocks when the gradient is bounded (null: never).
 */
function setup(workers: number, capacity: number, spec: Partial<ModelSpec> = {}, update: BlockUpdate | null = null) {
  const layout = layoutOf(resolveSpec({ layers: LAYERS, ...spec }));
  const rows = workers * capacity;
  const batch: BatchBuffers = {
    capacity,
    x: layout.layers.map((l) => sharedFloats(rows * l.inputs).fill(NaN)),
    dz: layout.layers.map((l) => sharedFloats(rows * l.outputs).fill(NaN)),
    packedX: layout.layers.map((l) => alignedSharedFloats(native.packedBSize(l.inputs, rows))),
  };
  const control = Control.create(workers, layout.layers.length);
  const slots = sharedFloats(workers * layout.paramCount).fill(NaN);
  const gradients = Array.from({ length: workers }, (_, w) => new SharedWeightGradients(control, w, layout, batch, slots, 0, update));
  return { layout, batch, control, slots, gradients };
}

type Setup = ReturnType<typeof setup>;

/** Fills rows [0, rows) of shard u's x and dz with random values, as its forward and backward passes would. */
function fillShard({ layout, batch }: Setup, u: number, rows: number, rng: Rng): void {
  layout.layers.forEach((l, i) => {
    const x = batch.x[i].subarray(u * batch.capacity * l.inputs);
    const dz = batch.dz[i].subarray(u * batch.capacity * l.outputs);
    for (let j = 0; j < rows * l.inputs; j++) x[j] = rng.uniform(-1, 1);
    for (let j = 0; j < rows * l.outputs; j++) dz[j] = rng.uniform(-1, 1);
  });
}

/** Worker u's backward pass as far as the gradients see it: each layer published, from the last. */
function backward({ layout, gradients }: Setup, u: number, rows: number): void {
  for (let i = layout.layers.length - 1; i >= 0; i--) gradients[u].publish(i, rows);
}

/** What one product over the batch's rows gives: dW = dZᵀ·X and db = the column sums of dZ, over the shards' rows in order. */
function expected({ layout, batch }: Setup, shardRows: number[]) {
  const total = shardRows.reduce((a, b) => a + b, 0);
  return layout.layers.map((l, i) => {
    const rowsOf = (buffer: Float32Array, width: number) => {
      const out = new Float32Array(total * width);
      let at = 0;
      shardRows.forEach((rows, u) => {
        out.set(buffer.subarray(u * batch.capacity * width, (u * batch.capacity + rows) * width), at);
        at += rows * width;
      });
      return out;
    };
    const x = rowsOf(batch.x[i], l.inputs);
    const dz = rowsOf(batch.dz[i], l.outputs);
    const dW = new Float32Array(l.outputs * l.inputs);
    native.sgemm(true, false, l.outputs, l.inputs, total, 1, dz, l.outputs, x, l.inputs, 0, dW, l.inputs);
    const db = new Float32Array(l.outputs);
    native.columnSums(dz, total, l.outputs, db, 0);
    return { dW, db };
  });
}

function slot0(s: Setup): Float32Array {
  return s.slots.subarray(0, s.layout.paramCount);
}

describe('the weight gradients over the whole batch', () => {
  it('give the bits of one product over the batch rows, shards of 5, 4 and 4 rows in 3 × 5 rows', () => {
    const s = setup(3, 5);
    const rng = new Rng(3);
    const rows = [5, 4, 4];
    rows.forEach((r, u) => fillShard(s, u, r, rng));
    s.gradients.forEach((g) => g.begin(7, 3));
    rows.forEach((r, u) => backward(s, u, r));
    // Worker 1 takes every block, its own share first (its partners have nothing left to take when they come).
    expect(s.gradients[1].finish()).toBe(true);
    expect(s.gradients[1].allFinite).toBe(true);
    expected(s, rows).forEach((want, i) => {
      expect(view(slot0(s), s.layout.layers[i].weight)).toEqual(want.dW);
      expect(view(slot0(s), s.layout.layers[i].bias)).toEqual(want.db);
    });
    expect(s.gradients[0].finish()).toBe(true);
    // Every share's counter went past its blocks; reset readies them all for the next step.
    const counters = () => Array.from({ length: LAYERS.length - 1 }, (_, i) => [0, 1, 2].map((u) => s.control.ints[s.control.nextBlock(i, u)])).flat();
    for (const c of counters()) expect(c).toBeGreaterThan(0);
    s.gradients[0].reset();
    for (const c of counters()) expect(c).toBe(0);
  });

  it('an empty shard publishes zeros over whatever its rows held, and takes blocks too', () => {
    const s = setup(3, 7);
    const rng = new Rng(4);
    const rows = [7, 6];
    rows.forEach((r, u) => fillShard(s, u, r, rng));
    s.gradients.forEach((g) => g.begin(2, 2));
    rows.forEach((r, u) => backward(s, u, r));
    expect(s.gradients[2].finish()).toBe(true);
    expect(s.control.ints[s.control.published(2, 0)]).toBe(2);
    expected(s, rows).forEach((want, i) => expect(view(slot0(s), s.layout.layers[i].weight)).toEqual(want.dW));
  });

  it('flags a block that is not finite', () => {
    const s = setup(2, 4);
    const rng = new Rng(5);
    [0, 1].forEach((u) => fillShard(s, u, 4, rng));
    s.batch.dz[1][4 * 20 + 3] = Infinity; // shard 1 (from row 4), its row 0, unit 3 of the middle layer (20 wide)
    s.gradients.forEach((g) => g.begin(1, 2));
    [0, 1].forEach((u) => backward(s, u, 4));
    expect(s.gradients[0].finish()).toBe(true);
    expect(s.gradients[0].allFinite).toBe(false);
  });

  it("sums the norm layers' gradients over the active shards' slots", () => {
    const s = setup(3, 3, { norm: 'layer' });
    const rng = new Rng(6);
    const rows = [3, 3, 2];
    rows.forEach((r, u) => fillShard(s, u, r, rng));
    const { paramCount } = s.layout;
    const norms = s.layout.layers.flatMap((l) => (l.norm ? [l.norm.weight, l.norm.bias] : []));
    for (const t of norms) for (let u = 0; u < 3; u++) for (let j = 0; j < t.size; j++) s.slots[u * paramCount + t.offset + j] = rng.uniform(-1, 1);
    const want = norms.map((t) =>
      Float32Array.from({ length: t.size }, (_, j) => {
        const at = (u: number) => s.slots[u * paramCount + t.offset + j];
        return Math.fround(Math.fround(at(0) + at(1)) + at(2));
      }),
    );
    s.gradients.forEach((g) => g.begin(5, 3));
    rows.forEach((r, u) => backward(s, u, r));
    expect(s.gradients[0].finish()).toBe(true);
    norms.forEach((t, k) => expect(view(slot0(s), t)).toEqual(want[k]));
  });

  it('a shard without a gradient (its forward pass was not finite) ends the taking for every worker', () => {
    const s = setup(2, 4);
    fillShard(s, 1, 4, new Rng(7));
    s.gradients.forEach((g) => g.begin(3, 2));
    backward(s, 1, 4);
    expect(s.gradients[0].finish()).toBe(true);
    expect(s.control.ints[s.control.published(0, 0)]).toBe(-3);
    expect(s.gradients[1].finish()).toBe(true);
    expect(slot0(s).every(Number.isNaN)).toBe(true);
  });

  it('stops waiting for a partner that never publishes once the engine aborts', () => {
    const s = setup(2, 4);
    fillShard(s, 0, 4, new Rng(8));
    s.gradients[0].begin(2, 2);
    backward(s, 0, 4);
    // (finish() blocks this thread: the abort is raised before it, as a failing worker's would be.)
    Atomics.store(s.control.ints, Word.Abort, 1);
    expect(s.gradients[0].finish()).toBe(false);
  });

  it('with a bounded gradient, updates every block once, right after computing it, from its rows of dW', () => {
    const done: string[] = [];
    let s: Setup | null = null;
    let want: ReturnType<typeof expected> = [];
    const update: BlockUpdate = (layer, b, dW) => {
      const { row0, row1 } = weightBlocks(s!.layout, native.packedBAlignment())[layer][b];
      const { inputs } = s!.layout.layers[layer];
      expect(dW).toEqual(want[layer].dW.subarray(row0 * inputs, row1 * inputs));
      done.push(`${layer}:${b}`);
    };
    s = setup(2, 6, {}, update);
    const rng = new Rng(9);
    [0, 1].forEach((u) => fillShard(s!, u, 6, rng));
    want = expected(s, [6, 6]);
    s.gradients.forEach((g) => g.begin(1, 2));
    [0, 1].forEach((u) => backward(s!, u, 6));
    expect(s.gradients[0].finish()).toBe(true);
    expect(s.gradients[0].updatedWithBlocks).toBe(true);
    const all = weightBlocks(s.layout, native.packedBAlignment()).flatMap((blocks, layer) => blocks.map((_, b) => `${layer}:${b}`));
    expect([...done].sort()).toEqual([...all].sort());
    // The blocks went from the worker's scratch to the update: slot 0 holds only the biases' gradients.
    s.layout.layers.forEach((l, i) => {
      expect(view(slot0(s!), l.weight).every(Number.isNaN)).toBe(true);
      expect(view(slot0(s!), l.bias)).toEqual(want[i].db);
    });
  });

  it('updates the blocks taken before every shard published once the last one has', async () => {
    const done: string[] = [];
    const stamps: number[] = [];
    let s: Setup | null = null;
    let want: ReturnType<typeof expected> = [];
    s = setup(2, 6, {}, (layer, b, dW) => {
      const { row0, row1 } = weightBlocks(s!.layout, native.packedBAlignment())[layer][b];
      expect(dW).toEqual(want[layer].dW.subarray(row0 * s!.layout.layers[layer].inputs, row1 * s!.layout.layers[layer].inputs));
      done.push(`${layer}:${b}`);
      stamps.push(Atomics.load(s!.control.ints, s!.control.published(1, 0)));
    });
    const rng = new Rng(10);
    [0, 1].forEach((u) => fillShard(s, u, 6, rng));
    want = expected(s, [6, 6]);
    // Worker 1's first layer is ready but stamped for step 4; another thread stamps it for step 5 later,
    // while worker 0 has already taken the other layers' blocks.
    s.gradients[1].begin(4, 2);
    s.gradients[1].publish(0, 6);
    s.gradients.forEach((g) => g.begin(5, 2));
    backward(s, 0, 6);
    for (let i = LAYERS.length - 2; i > 0; i--) s.gradients[1].publish(i, 6);
    const stamper = new Worker(
      `const { workerData: d } = require('node:worker_threads');
       const ints = new Int32Array(d.buffer);
       setTimeout(() => { Atomics.store(ints, d.word, 5); Atomics.notify(ints, d.word); }, 50);`,
      { eval: true, workerData: { buffer: s.control.buffer, word: s.control.published(1, 0) } },
    );
    expect(s.gradients[0].finish()).toBe(true);
    await stamper.terminate();
    expect(s.gradients[0].updatedWithBlocks).toBe(true);
    const all = weightBlocks(s.layout, native.packedBAlignment()).flatMap((blocks, layer) => blocks.map((_, b) => `${layer}:${b}`));
    expect([...done].sort()).toEqual([...all].sort());
    // None was updated before worker 1 had published its first layer.
    expect(new Set(stamps)).toEqual(new Set([5]));
  });

  it('checks a gradient too large to bound instead, and leaves the update for after the barrier', () => {
    const calls: number[] = [];
    const s = setup(2, 4, {}, (layer) => calls.push(layer));
    const rng = new Rng(11);
    [0, 1].forEach((u) => fillShard(s, u, 4, rng));
    s.batch.x[0].fill(1e37, 0, 4 * 30); // shard 0's input: 8 rows × max|dZ| × max|X| is over the bound, dW (≤ 4e37) still finite
    s.gradients.forEach((g) => g.begin(1, 2));
    [0, 1].forEach((u) => backward(s, u, 4));
    expect(s.gradients[0].finish()).toBe(true);
    expect(s.gradients[0].updatedWithBlocks).toBe(false);
    expect(s.gradients[0].allFinite).toBe(true);
    expect(calls).toEqual([]);
  });
});

describe('where the weight gradients are computed', () => {
  const layout = (layers: number[]) => layoutOf(resolveSpec({ layers }));
  it('over the batch unless the first layer holds most of the weights', () => {
    expect(gradientsOverBatch(layout([784, 1024, 1024, 10]))).toBe(true);
    expect(gradientsOverBatch(layout([12, 16, 16, 3]))).toBe(true);
    expect(gradientsOverBatch(layout([784, 128, 10]))).toBe(false);
  });


  it("pays when a worker's share of the gradient outweighs a pass over its shard's X and dZ", () => {
    expect(updateWithBlocksPays(layout([784, 1024, 1024, 10]), 2, 128)).toBe(true);
    expect(updateWithBlocksPays(layout([784, 128, 10]), 2, 256)).toBe(false);
    expect(updateWithBlocksPays(layout([12, 64, 48, 3]), 4, 3)).toBe(true);
  });
});
