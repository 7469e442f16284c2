// Straightforward float64 references of the native kernels, the seeded inputs the kernel tests
// draw, and the comparison they use. Written from the math, not from the C++ (no shared tricks):
// softmax here is exp(x − max)/Σ, variances are plain two-pass sums, and so on.
import { expect } from 'vitest';
import { ActivationCode } from '../src/native.js';

/** Small seeded generator (mulberry32), so that a failing case replays exactly. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  floats(n: number, lo = -1, hi = 1): Float32Array {
    return Float32Array.from({ length: n }, () => this.uniform(lo, hi));
  }
  labels(rows: number, cols: number): Int32Array {
    return Int32Array.from({ length: rows }, () => this.int(cols));
  }
}

/** Shapes that exercise vector tails: single elements, one column, odd and non-multiple-of-8/16 sizes. */
export const SHAPES: ReadonlyArray<readonly [rows: number, cols: number]> = [
  [1, 1], [1, 10], [5, 1], [3, 7], [13, 10], [17, 33], [64, 100], [9, 130],
];
export const LENGTHS = [1, 2, 7, 8, 15, 16, 17, 31, 33, 100, 1023];

/**
 * Every element within atol + rtol·|expected|; NaN only where NaN is expected and ±Inf only where the
 * same infinity is. Reports the first mismatch with its index.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol = 0): void {
  expect(actual.length, 'length').toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    const ok = Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) expect.fail(`element ${i}: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
  }
}

// ---- activations -------------------------------------------------------------------------------

export function activation(kind: ActivationCode, alpha: number, z: number): number {
  switch (kind) {
    case ActivationCode.Linear:
      return z;
    case ActivationCode.Relu:
      return Number.isNaN(z) ? z : Math.max(z, 0);
    case ActivationCode.LeakyRelu:
      return z < 0 ? (alpha === 0 ? 0 : alpha * z) : z;
    case ActivationCode.Tanh:
      return Math.tanh(z);
    case ActivationCode.Sigmoid:
      return 1 / (1 + Math.exp(-alpha * z));
  }
}

/**
 * f'(z), with the left slope at 0 for the piecewise-linear units; tanh and sigmoid take it from
 * a = f(z) as the contract says (so a float32 a gives the same derivative to both sides).
 */
export function activationDerivative(kind: ActivationCode, alpha: number, z: number, a: number): number {
  switch (kind) {
    case ActivationCode.Linear:
      return 1;
    case ActivationCode.Relu:
      return Number.isNaN(z) ? z : z > 0 ? 1 : 0;
    case ActivationCode.LeakyRelu:
      return Number.isNaN(z) ? z : z > 0 ? 1 : alpha;
    case ActivationCode.Tanh:
      return 1 - a * a;
    case ActivationCode.Sigmoid:
      return alpha * a * (1 - a);
  }
}

// ---- softmax and losses ------------------------------------------------------------------------

/** Softmax of finite rows, and the cross-entropy of each row against its label. */
export function softmaxCrossEntropy(x: ArrayLike<number>, labels: ArrayLike<number>, rows: number, cols: number) {
  const probs = new Float64Array(rows * cols);
  const losses = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, x[r * cols + j]);
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(x[r * cols + j] - max);
    for (let j = 0; j < cols; j++) probs[r * cols + j] = Math.exp(x[r * cols + j] - max) / sum;
    losses[r] = max + Math.log(sum) - x[r * cols + labels[r]];
  }
  return { probs, losses, loss: losses.reduce((a, b) => a + b, 0) };
}

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

/** Mean and biased variance of n values read through at(i). */
function moments(n: number, at: (i: number) => number): { mean: number; variance: number } {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += at(i);
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (at(i) - mean) ** 2;
  return { mean, variance: squares / n };
}

export interface NormInput {
  x: ArrayLike<number>;
  gamma: ArrayLike<number>;
  beta: ArrayLike<number>;
  rows: number;
  cols: number;
  eps: number;
}

export function layerNorm({ x, gamma, beta, rows, cols, eps }: NormInput) {
  const y = new Float64Array(rows * cols), mean = new Float64Array(rows), rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const m = moments(cols, (j) => x[r * cols + j]);
    mean[r] = m.mean;
    rstd[r] = 1 / Math.sqrt(m.variance + eps);
    for (let j = 0; j < cols; j++) y[r * cols + j] = (x[r * cols + j] - mean[r]) * rstd[r] * gamma[j] + beta[j];
  }
  return { y, mean, rstd };
}

/** BatchNorm with batch statistics; unbiasedVar is what the running variance moves toward. */
export function batchNormTraining({ x, gamma, beta, rows, cols, eps }: NormInput) {
  const y = new Float64Array(rows * cols), mean = new Float64Array(cols), rstd = new Float64Array(cols);
  const unbiasedVar = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    const m = moments(rows, (r) => x[r * cols + j]);
    mean[j] = m.mean;
    rstd[j] = 1 / Math.sqrt(m.variance + eps);
    unbiasedVar[j] = (m.variance * rows) / (rows - 1);
    for (let r = 0; r < rows; r++) y[r * cols + j] = (x[r * cols + j] - mean[j]) * rstd[j] * gamma[j] + beta[j];
  }
  return { y, mean, rstd, unbiasedVar };
}

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
  p: Float64Array, g: ArrayLike<number>, v: Float64Array, { lr, weightDecay, mu, nesterov }: Hyper & { mu: number; nesterov: boolean },
): void {
  for (let i = 0; i < p.length; i++) {
    const d = g[i] + weightDecay * p[i];
    v[i] = mu * v[i] + d;
    p[i] -= lr * (nesterov ? d + mu * v[i] : v[i]);
  }
}

export function adam(
  p: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array,
  { lr, weightDecay, beta1, beta2, eps, decoupled, step }: Hyper & { beta1: number; beta2: number; eps: number; decoupled: boolean; step: number },
): void {
  for (let i = 0; i < p.length; i++) {
    if (decoupled) p[i] -= lr * weightDecay * p[i];
    const gi = decoupled ? g[i] : g[i] + weightDecay * p[i];
    m[i] = beta1 * m[i] + (1 - beta1) * gi;
    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
    const mHat = m[i] / (1 - beta1 ** step), vHat = v[i] / (1 - beta2 ** step);
    p[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
  }
}
