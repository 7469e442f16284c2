// What the kernel tests share beyond the library's float64 reference (src/nn/reference.ts, whose
// activations, softmax and norms they compare against): the seeded inputs they draw, the comparison
// they use, and float64 forms of the kernels the network reference does not need (losses' pieces,
// reductions, optimizer steps), written from the math, not from the C++.
import { expect } from 'vitest';
import type { NormInput } from '../src/nn/reference.js';
import { Random } from '../src/util/random.js';

/** The library's generator with the draws the kernel tests need. */
export class Rng extends Random {
  floats(n: number, lo = -1, hi = 1): Float32Array {
    return Float32Array.from({ length: n }, () => this.uniform(lo, hi));
  }
  labels(rows: number, cols: number): Int32Array {
    return Int32Array.from({ length: rows }, () => this.int(cols));
  }
}

/** Shapes that exercise vector tails: single elements, one column, odd and non-multiple-of-8/16 sizes. */
export const SHAPES: ReadonlyArray<readonly [rows: number, cols: number]> = [
  [1, 1],
  [1, 10],
  [5, 1],
  [3, 7],
  [13, 10],
  [17, 33],
  [64, 100],
  [9, 130],
];
export const LENGTHS = [1, 2, 7, 8, 15, 16, 17, 31, 33, 100, 1023];

/**
 * Every element within atol + rtol·|expected|; NaN only where NaN is expected and ±Inf only where the
 * same infinity is. Reports the first mismatch with its index.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol = 0): void {
  expect(actual.length, 'length').toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i],
      e = expected[i];
    const ok = Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) expect.fail(`element ${i}: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
  }
}

// ---- losses ------------------------------------------------------------------------------------

export function oneHotDifference(p: ArrayLike<number>, labels: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const d = Float64Array.from(p);
  for (let r = 0; r < rows; r++) d[r * cols + labels[r]] -= 1;
  return d;
}

export function squaredError(p: ArrayLike<number>, labels: ArrayLike<number>, rows: number, cols: number): number {
  return oneHotDifference(p, labels, rows, cols).reduce((s, d) => s + d * d, 0);
}

/** First index of the maximum; the first NaN wins. */
export function argmax(x: ArrayLike<number>, from: number, cols: number): number {
  let best = 0;
  for (let j = 0; j < cols; j++) {
    const v = x[from + j];
    if (Number.isNaN(v)) return j;
    if (v > x[from + best]) best = j;
  }
  return best;
}

// ---- normalization -----------------------------------------------------------------------------

/**
 * Gradients of L = Σ y·dy with respect to x, gamma and beta by central differences of a float64
 * forward pass: an independent check of the analytic backward formulas.
 */
export function finiteDifferenceGradients(forward: (input: NormInput) => { y: Float64Array }, input: NormInput, dy: ArrayLike<number>) {
  const loss = (inp: NormInput) => forward(inp).y.reduce((s, v, i) => s + v * dy[i], 0);
  const gradient = (key: 'x' | 'gamma' | 'beta') => {
    const values = Float64Array.from(input[key]);
    const g = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const h = 1e-6 * Math.max(1, Math.abs(values[i]));
      const v = values[i];
      values[i] = v + h;
      const up = loss({ ...input, [key]: values });
      values[i] = v - h;
      const down = loss({ ...input, [key]: values });
      values[i] = v;
      g[i] = (up - down) / (2 * h);
    }
    return g;
  };
  return { dx: gradient('x'), dgamma: gradient('gamma'), dbeta: gradient('beta') };
}

// ---- reductions --------------------------------------------------------------------------------

export function columnSums(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) out[j] += x[r * cols + j];
  return out;
}

// ---- optimizers (PyTorch's update rules, one step, in place) -------------------------------------

export interface Hyper {
  lr: number;
  weightDecay: number;
}

export function sgd(p: Float64Array, g: ArrayLike<number>, { lr, weightDecay }: Hyper): void {
  for (let i = 0; i < p.length; i++) p[i] -= lr * (g[i] + weightDecay * p[i]);
}

export function momentum(
  p: Float64Array,
  g: ArrayLike<number>,
  v: Float64Array,
  { lr, weightDecay, mu, nesterov }: Hyper & { mu: number; nesterov: boolean },
): void {
  for (let i = 0; i < p.length; i++) {
    const d = g[i] + weightDecay * p[i];
    v[i] = mu * v[i] + d;
    p[i] -= lr * (nesterov ? d + mu * v[i] : v[i]);
  }
}

export function adam(
  p: Float64Array,
  g: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
  { lr, weightDecay, beta1, beta2, eps, decoupled, step }: Hyper & { beta1: number; beta2: number; eps: number; decoupled: boolean; step: number },
): void {
  for (let i = 0; i < p.length; i++) {
    if (decoupled) p[i] -= lr * weightDecay * p[i];
    const gi = decoupled ? g[i] : g[i] + weightDecay * p[i];
    m[i] = beta1 * m[i] + (1 - beta1) * gi;
    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
    const mHat = m[i] / (1 - beta1 ** step),
      vHat = v[i] / (1 - beta2 ** step);
    p[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
  }
}
