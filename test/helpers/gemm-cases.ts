// The cases of the per-ISA GEMM tests (test/gemm.test.ts, test/gemm-bf16.test.ts) and their
// float64 reference. Padding between rows (ld > width) and guards around every array hold NaN in
// the inputs, so a read outside op(A), op(B) or the bias poisons the result, and a sentinel in C,
// which must survive: nothing outside the m×n window may be written.
//
// For the bf16 GEMM the reference multiplies the operands as the GEMM sees them, rounded to bf16
// (roundToBf16, the rounding the packing does); alpha, beta, C and the bias stay fp32.
import { expect } from 'vitest';
import { native } from '../../src/native.js';
import { Random } from '../../src/util/random.js';

export type Precision = 'fp32' | 'bf16';

export const U = 2 ** -24;
const GUARD = 5;
export const SENTINEL = 1234.5;

/** Uniforms in [0, 1) from the library's seeded generator: reproducible cases. */
export function rng(seed: number): () => number {
  const random = new Random(seed);
  return () => random.uniform();
}

export interface Matrix {
  /** The array passed to sgemm: exactly (rows − 1)·ld + cols elements, GUARD more on each side in `whole`. */
  view: Float32Array;
  whole: Float32Array;
  rows: number;
  cols: number;
  ld: number;
}

export function matrix(rows: number, cols: number, ld: number, value: () => number, pad: number, shared = false): Matrix {
  const length = rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
  const bytes = (length + 2 * GUARD) * 4;
  const whole = new Float32Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes)).fill(pad);
  const view = whole.subarray(GUARD, GUARD + length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) view[i * ld + j] = value();
  return { view, whole, rows, cols, ld };
}

export interface Case {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  bias: boolean;
  /** Extra elements per row beyond the width, for each of A, B, C. */
  pad: [number, number, number];
  shared?: boolean;
}

export interface Result {
  c: Matrix;
  expected: Float64Array;
  /** |alpha|·Σ|a·b| + |beta·c| + |bias| per element: the scale of the rounding error. */
  magnitude: Float64Array;
}

/**
 * The bf16 of x as a number: round to nearest, ties to even; NaN stays NaN, ±Inf stay, subnormals
 * become zeros of their sign (as vcvtne2ps2bf16 and the packing do).
 */
const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

export function roundToBf16(x: number): number {
  const [f, u] = [scratch, scratchBits];
  f[0] = x;
  const bits = u[0];
  if ((bits & 0x7f800000) === 0) u[0] = bits & 0x80000000;
  else if ((bits & 0x7fffffff) > 0x7f800000) return NaN;
  else u[0] = ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 0) & 0xffff0000;
  return f[0];
}

export function run(cs: Case, value: () => number, precision: Precision = 'fp32'): Result {
  const { transA, transB, m, n, k, alpha, beta, pad, shared } = cs;
  const a = transA ? matrix(k, m, m + pad[0], value, NaN, shared) : matrix(m, k, k + pad[0], value, NaN, shared);
  const b = transB ? matrix(n, k, k + pad[1], value, NaN, shared) : matrix(k, n, n + pad[1], value, NaN, shared);
  // beta = 0 must not read C: fill it with NaN then.
  const c = matrix(m, n, n + pad[2], beta === 0 ? () => NaN : value, SENTINEL, shared);
  const bias = cs.bias ? matrix(1, n, n, value, NaN, shared) : null;

  // The operands as the product sees them.
  const [av, bv] = precision === 'bf16' ? [a.view.map(roundToBf16), b.view.map(roundToBf16)] : [a.view, b.view];
  const opA = (i: number, p: number) => (transA ? av[p * a.ld + i] : av[i * a.ld + p]);
  const opB = (p: number, j: number) => (transB ? bv[j * b.ld + p] : bv[p * b.ld + j]);
  const expected = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      let abs = 0;
      for (let p = 0; p < k; p++) {
        const t = opA(i, p) * opB(p, j);
        sum += t;
        abs += Math.abs(t);
      }
      const c0 = beta === 0 ? 0 : beta * c.view[i * c.ld + j];
      const bj = bias ? bias.view[j] : 0;
      expected[i * n + j] = alpha * sum + c0 + bj;
      magnitude[i * n + j] = Math.abs(alpha) * abs + Math.abs(c0) + Math.abs(bj);
    }
  }

  const gemm = precision === 'bf16' ? native.gemmBf16 : native.sgemm;
  gemm(transA, transB, m, n, k, alpha, a.view, a.ld, b.view, b.ld, beta, c.view, c.ld, bias?.view);
  return { c, expected, magnitude };
}

/** Asserts |c − expected| ≤ tolerance(i, j) inside the window and the sentinel everywhere else in C's buffer. */
export function check(r: Result, tolerance: (index: number) => number): void {
  const { c, expected } = r;
  let worst = { excess: -Infinity, i: -1, j: -1, got: 0, want: 0 };
  for (let i = 0; i < c.rows; i++) {
    for (let j = 0; j < c.cols; j++) {
      const got = c.view[i * c.ld + j];
      const want = expected[i * c.cols + j];
      const excess = Number.isNaN(got) ? Infinity : Math.abs(got - want) - tolerance(i * c.cols + j);
      if (excess > worst.excess) worst = { excess, i, j, got, want };
    }
  }
  if (worst.excess > 0) expect.fail(`C[${worst.i}][${worst.j}] = ${worst.got}, expected ${worst.want}`);

  const inWindow = (index: number) => {
    const local = index - GUARD;
    if (local < 0 || local >= c.view.length) return false;
    return local % c.ld < c.cols;
  };
  for (let index = 0; index < c.whole.length; index++)
    if (!inWindow(index) && c.whole[index] !== SENTINEL) expect.fail(`C's buffer changed outside the window at ${index - GUARD}`);
}

export function exact(r: Result): void {
  check(r, () => 0);
}

export function withinBound(r: Result, k: number): void {
  check(r, (index) => (3 * k + 2) * U * r.magnitude[index]);
}

export const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

// m, n, k: ones, odd sizes, sizes off the vector width and off MR and NR of every kernel; k across
// several KC blocks; m across MC and n across NC of every kernel (AVX2 252 and 4096, AVX-512 504
// and 8192, portable 126 and 2048) with the other dimensions small to keep the reference cheap.
export const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 17, 5],
  [7, 1, 9],
  [5, 3, 1],
  [6, 16, 8],
  [12, 32, 16],
  [13, 33, 31],
  [37, 29, 64],
  [31, 47, 257],
  [130, 70, 300],
  [3, 9, 2500],
  [2, 5, 4100],
  [600, 11, 7],
  [4, 8300, 3],
];

// alpha, beta: plain, scaled, accumulating, and beta = 0 over NaN; in the integer cases they keep
// sums exact (powers of two, halves).
export const SCALINGS: [number, number][] = [
  [1, 0],
  [0.5, 1],
  [-2, -0.5],
  [1, 1],
];

export function integers(seed: number): () => number {
  const r = new Random(seed);
  return () => r.int(9) - 4;
}

export function reals(seed: number): () => number {
  const r = new Random(seed);
  return () => r.uniform(-1, 1);
}
