import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import { softmaxCrossEntropy } from '../src/nn/reference.js';
import { Rng, SHAPES, argmax, expectClose, oneHotDifference, squaredError } from './reference.js';

function crossEntropy(logits: Float32Array, labels: Int32Array, cols: number) {
  const probs = new Float32Array(logits.length);
  const loss = native.softmaxCrossEntropy(logits, labels, probs, labels.length, cols);
  return { probs, loss };
}

/** One row's probabilities and loss for the given label. */
function row(values: number[], label: number) {
  return crossEntropy(Float32Array.from(values), Int32Array.of(label), values.length);
}

describe('softmax cross-entropy', () => {
  it.each(SHAPES)('matches the float64 reference, %i x %i', (rows, cols) => {
    const rng = new Rng(rows * 131 + cols);
    const logits = rng.floats(rows * cols, -8, 8),
      labels = rng.labels(rows, cols);
    const { probs, loss } = crossEntropy(logits, labels, cols);
    const ref = softmaxCrossEntropy(logits, labels, rows, cols);
    expectClose(probs, ref.probs, 1e-6, 1e-9);
    expectClose([loss], [ref.loss], 1e-6, 1e-6);

    const inference = new Float32Array(rows * cols);
    native.softmax(logits, inference, rows, cols);
    expect(inference).toEqual(probs);

    const dlogits = new Float32Array(rows * cols);
    native.softmaxCrossEntropyBackward(probs, labels, dlogits, rows, cols, 1 / rows);
    expectClose(
      dlogits,
      oneHotDifference(ref.probs, labels, rows, cols).map((d) => d / rows),
      1e-6,
      1e-8,
    );
  });

  it('keeps logits of ±1e4 finite: p[label] underflows to 0 but the loss is exactly lse − x[label]', () => {
    const { probs, loss } = row([1e4, -1e4, 0], 1);
    expect(Array.from(probs)).toEqual([1, 0, 0]);
    expect(loss).toBe(2e4);
    expect(row([1e4, -1e4, 0], 2).loss).toBe(1e4);
    expect(row([1e4, 1e4 - 1, -1e4], 0).loss).toBeCloseTo(Math.log1p(Math.exp(-1)), 6);
  });

  it('shares the probability among +Inf logits and gives the limits of the loss', () => {
    const values = [Infinity, 0, Infinity, -Infinity, 3];
    expect(Array.from(row(values, 0).probs)).toEqual([0.5, 0, 0.5, 0, 0]);
    expect(row(values, 2).loss).toBeCloseTo(Math.log(2), 12);
    expect(row(values, 1).loss).toBe(Infinity);
    expect(row(values, 3).loss).toBe(Infinity);
  });

  it('gives −Inf logits probability 0, and a row of only −Inf the uniform distribution (the limit of equal logits)', () => {
    const mixed = row([-Infinity, 1, -Infinity, 1], 1);
    expect(Array.from(mixed.probs)).toEqual([0, 0.5, 0, 0.5]);
    expect(mixed.loss).toBeCloseTo(Math.log(2), 6);
    expect(row([-Infinity, 1], 0).loss).toBe(Infinity);
    const none = row([-Infinity, -Infinity, -Infinity, -Infinity], 2);
    expect(Array.from(none.probs)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(none.loss).toBeCloseTo(Math.log(4), 12);
  });

  it('turns a row with NaN into NaN probabilities and a NaN loss, leaving other rows alone', () => {
    const logits = Float32Array.from([1, 2, 3, NaN, Infinity, 0, 1, 2, 3]);
    const labels = Int32Array.of(0, 1, 2);
    const { probs, loss } = crossEntropy(logits, labels, 3);
    expect(loss).toBeNaN();
    expect(Array.from(probs.subarray(3, 6)).every(Number.isNaN)).toBe(true);
    expect(probs.subarray(0, 3)).toEqual(probs.subarray(6, 9));
    expectClose(probs.subarray(0, 3), softmaxCrossEntropy([1, 2, 3], [0], 1, 3).probs, 1e-6);
    for (const label of [0, 1, 2]) expect(row([0, NaN, 0], label).loss).toBeNaN();
  });

  it('scales the backward pass and handles one column (p = 1, gradient 0)', () => {
    const { probs } = crossEntropy(Float32Array.of(5, -3, 7), Int32Array.of(0, 0, 0), 1);
    expect(Array.from(probs)).toEqual([1, 1, 1]);
    const d = new Float32Array(3);
    native.softmaxCrossEntropyBackward(probs, Int32Array.of(0, 0, 0), d, 3, 1, 0.5);
    expect(Array.from(d)).toEqual([0, 0, 0]);
  });
});

describe('mean squared error', () => {
  it.each(SHAPES)('matches the float64 reference, %i x %i', (rows, cols) => {
    const rng = new Rng(rows * 17 + cols * 3);
    const pred = rng.floats(rows * cols, -2, 2),
      labels = rng.labels(rows, cols);
    expectClose([native.meanSquaredError(pred, labels, rows, cols)], [squaredError(pred, labels, rows, cols)], 1e-12);
    const dpred = new Float32Array(rows * cols);
    native.meanSquaredErrorBackward(pred, labels, dpred, rows, cols, 0.25);
    expectClose(
      dpred,
      oneHotDifference(pred, labels, rows, cols).map((d) => 2 * d * 0.25),
      1e-6,
      1e-8,
    );
  });

  it('propagates NaN and Inf', () => {
    expect(native.meanSquaredError(Float32Array.of(0, NaN, 1, 0), Int32Array.of(0, 0), 2, 2)).toBeNaN();
    expect(native.meanSquaredError(Float32Array.of(0, -Infinity), Int32Array.of(0), 1, 2)).toBe(Infinity);
    const d = new Float32Array(2);
    native.meanSquaredErrorBackward(Float32Array.of(NaN, Infinity), Int32Array.of(1), d, 1, 2, 1);
    expect(d[0]).toBeNaN();
    expect(d[1]).toBe(Infinity);
  });
});

describe('argmaxRows and countCorrect', () => {
  it.each(SHAPES)('match the reference, %i x %i', (rows, cols) => {
    const rng = new Rng(rows + cols * 1000);
    // Coarse values so that ties occur.
    const scores = Float32Array.from({ length: rows * cols }, () => rng.int(4));
    const labels = rng.labels(rows, cols);
    const out = new Int32Array(rows);
    native.argmaxRows(scores, rows, cols, out);
    const expected = Array.from({ length: rows }, (_, r) => argmax(scores, r * cols, cols));
    expect(Array.from(out)).toEqual(expected);
    expect(native.countCorrect(scores, labels, rows, cols)).toBe(expected.filter((a, r) => a === labels[r]).length);
  });

  it('takes the first index on ties and the first NaN when there is one', () => {
    const scores = Float32Array.of(1, 3, 3, 0, /**/ 1, NaN, 5, NaN, /**/ NaN, 9, 9, 9, /**/ -Infinity, -Infinity, -Infinity, -Infinity);
    const out = new Int32Array(4);
    native.argmaxRows(scores, 4, 4, out);
    expect(Array.from(out)).toEqual([1, 1, 0, 0]);
    expect(native.countCorrect(scores, Int32Array.of(1, 1, 0, 0), 4, 4)).toBe(4);
    expect(native.countCorrect(scores, Int32Array.of(2, 2, 1, 3), 4, 4)).toBe(0);
  });
});

describe('losses against float targets', () => {
  it.each(SHAPES)('squared error and its backward match float64, %i x %i', (rows, cols) => {
    const rng = new Rng(rows * 17 + cols);
    const n = rows * cols;
    const pred = rng.floats(n, -3, 3),
      targets = rng.floats(n, -3, 3);
    let ref = 0;
    for (let i = 0; i < n; i++) ref += (pred[i] - targets[i]) ** 2;
    expectClose([native.squaredError(pred, targets, n)], [ref], 1e-9, 1e-9);
    const d = new Float32Array(n);
    native.targetResidual(pred, targets, d, n, 2 / rows);
    expectClose(
      d,
      Array.from(pred, (p, i) => (2 * (p - targets[i])) / rows),
      1e-6,
      1e-7,
    );
  });

  it.each(SHAPES)('sigmoid binary cross-entropy matches float64, with alpha, %i x %i', (rows, cols) => {
    const rng = new Rng(rows * 29 + cols);
    const n = rows * cols;
    const logits = rng.floats(n, -8, 8);
    const targets = Float32Array.from(rng.floats(n, 0, 1), (v) => (v > 0.5 ? 1 : 0));
    const probs = new Float32Array(n);
    const alpha = 1.5;
    const loss = native.sigmoidBinaryCrossEntropy(logits, targets, probs, n, alpha);
    let ref = 0;
    const p64 = Array.from(logits, (z) => 1 / (1 + Math.exp(-alpha * z)));
    p64.forEach((p, i) => (ref -= targets[i] * Math.log(p) + (1 - targets[i]) * Math.log(1 - p)));
    expectClose(probs, p64, 1e-6, 1e-9);
    expectClose([loss], [ref], 1e-6, 1e-6);
  });

  it('keeps binary cross-entropy finite for logits of ±1e4, where p rounds to exactly 0 or 1', () => {
    const probs = new Float32Array(4);
    const loss = native.sigmoidBinaryCrossEntropy(Float32Array.of(1e4, -1e4, 1e4, -1e4), Float32Array.of(1, 0, 0, 1), probs, 4, 1);
    expect(Array.from(probs)).toEqual([1, 0, 1, 0]);
    expect(loss).toBe(2e4); // the two wrong rows cost |u| each, the right ones e^−1e4 ≈ 0
    const d = new Float32Array(4);
    native.targetResidual(probs, Float32Array.of(1, 0, 0, 1), d, 4, 0.5);
    expect(Array.from(d)).toEqual([0, 0, 0.5, -0.5]);
  });

  it('refuses arrays shorter than n, and an output that aliases an input', () => {
    const a = new Float32Array(4);
    expect(() => native.squaredError(a, new Float32Array(3), 4)).toThrow(/'targets' has 3 elements but needs 4/);
    expect(() => native.sigmoidBinaryCrossEntropy(a, a, new Float32Array(2), 4, 1)).toThrow(/'probs' has 2 elements/);
    expect(() => native.targetResidual(a, new Float32Array(4), a, 4, 1)).toThrow(/must not overlap/);
  });
});
