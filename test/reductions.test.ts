import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import { LENGTHS, Rng, SHAPES, columnSums, expectClose } from './reference.js';

describe('columnSums', () => {
  it.each(
    SHAPES.flatMap(([r, c]) => [
      [r, c, 0],
      [r, c, 1],
      [r, c, 0.5],
    ]),
  )('matches the reference, %i x %i, beta %s', (rows, cols, beta) => {
    const rng = new Rng(rows * 7 + cols);
    const x = rng.floats(rows * cols),
      out = rng.floats(cols);
    const expected = columnSums(x, rows, cols).map((s, j) => beta * out[j] + s);
    native.columnSums(x, rows, cols, out, beta);
    expectClose(out, expected, 1e-6, 1e-6);
  });

  it('beta = 0 overwrites out without reading it (NaN there does not leak)', () => {
    const out = new Float32Array(3).fill(NaN);
    native.columnSums(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3, out, 0);
    expect(Array.from(out)).toEqual([5, 7, 9]);
  });

  it('accumulates in double: a long column of small terms on a large one loses nothing', () => {
    // In float, 1 + 1e-8 rounds back to 1 each time; 4096 such terms must add up to 4.096e-5.
    const rows = 4097,
      x = new Float32Array(rows).fill(1e-8);
    x[0] = 1;
    const out = new Float32Array(1);
    native.columnSums(x, rows, 1, out, 0);
    expect(out[0]).toBe(Math.fround(1 + 4096 * Math.fround(1e-8)));
  });
});

describe('reduceSlots', () => {
  it.each([
    [1, 5, 5, 0, 5],
    [3, 17, 19, 0, 17],
    [4, 100, 104, 33, 71],
    [2, 9, 9, 4, 4],
    [2, 300, 301, 1, 299],
  ])('sums %i slots of %i into slot 0 over [begin, end) with stride %i (%i, %i)', (count, width, stride, begin, end) => {
    const rng = new Rng(count * 100 + width);
    const slots = rng.floats((count - 1) * stride + width);
    const before = slots.slice();
    const top = native.reduceSlots(slots, count, stride, begin, end);
    let expectedTop = 0;
    for (let i = 0; i < slots.length; i++) {
      if (i >= begin && i < end) {
        let expected = 0;
        for (let s = 0; s < count; s++) expected += before[s * stride + i];
        expectClose([slots[i]], [expected], 1e-6, 1e-7);
        expectedTop = Math.max(expectedTop, Math.abs(slots[i]));
      } else {
        expect(slots[i]).toBe(before[i]);
      }
    }
    expect(top).toBe(expectedTop);
  });

  it('gives the same sums however the range is split among workers', () => {
    const rng = new Rng(3),
      count = 4,
      stride = 1000;
    const whole = rng.floats(count * stride, -1e3, 1e3),
      pieces = whole.slice();
    native.reduceSlots(whole, count, stride, 0, stride);
    for (const [b, e] of [
      [0, 333],
      [333, 334],
      [334, 999],
      [999, 1000],
    ])
      native.reduceSlots(pieces, count, stride, b, e);
    expect(pieces).toEqual(whole);
  });

  it('reports a sum that is not finite', () => {
    const slots = Float32Array.of(3e38, 1, -2, 3e38, 2, -2);
    expect(native.reduceSlots(slots.slice(), 2, 3, 0, 3)).toBe(Infinity);
    expect(native.reduceSlots(slots.slice(), 2, 3, 1, 3)).toBe(4);
    expect(native.reduceSlots(Float32Array.of(1, NaN, 0, 1), 2, 2, 0, 2)).toBeNaN();
  });
});

describe('maxAbs', () => {
  it.each(LENGTHS)('matches the reference, n = %i', (n) => {
    const x = new Rng(n).floats(n, -5, 5);
    expect(native.maxAbs(x, n)).toBe(Math.max(...Array.from(x, Math.abs)));
  });

  it.each(LENGTHS)('returns NaN for a NaN anywhere and Infinity for ±Inf otherwise, n = %i', (n) => {
    for (const at of [0, n >> 1, n - 1]) {
      const x = new Rng(n + at).floats(n);
      x[at] = -Infinity;
      expect(native.maxAbs(x, n)).toBe(Infinity);
      x[(at + 1) % n] = NaN; // with n = 1 this replaces the infinity
      expect(native.maxAbs(x, n)).toBeNaN();
    }
  });

  it('looks only at the first n elements; n = 0 gives 0', () => {
    expect(native.maxAbs(Float32Array.of(-3, 2, NaN), 2)).toBe(3);
    expect(native.maxAbs(Float32Array.of(NaN), 0)).toBe(0);
  });
});

describe('sumSquares', () => {
  it.each(LENGTHS)('matches the float64 reference, n = %i', (n) => {
    const x = new Rng(n * 3).floats(n, -10, 10);
    expectClose([native.sumSquares(x, n)], [x.reduce((s, v) => s + v * v, 0)], 1e-12);
  });

  it('accumulates in double and propagates NaN and Inf', () => {
    // Terms of 1e-8 next to 1: in float they would vanish.
    const x = new Float32Array(10001).fill(1e-4);
    x[0] = 1;
    expectClose([native.sumSquares(x, x.length)], [1 + 10000 * Math.fround(1e-4) ** 2], 1e-12);
    expect(native.sumSquares(Float32Array.of(1, NaN), 2)).toBeNaN();
    expect(native.sumSquares(Float32Array.of(1, -Infinity), 2)).toBe(Infinity);
    expect(native.sumSquares(Float32Array.of(5), 0)).toBe(0);
  });
});

describe('scale', () => {
  it.each(LENGTHS)('multiplies the first n elements, n = %i', (n) => {
    const x = new Rng(n).floats(n + 1),
      before = x.slice();
    native.scale(x, n, -0.75);
    expect(Array.from(x)).toEqual(Array.from(before, (v, i) => (i < n ? Math.fround(v * Math.fround(-0.75)) : v)));
  });
});
