// gemmBf16 against a float64 reference computed on the bf16-rounded operands (helpers/gemm-cases.ts).
// vitest.config.ts runs this file once per ISA the CPU supports: avx512 runs vdpbf16ps where the
// CPU has AVX512-BF16, every other ISA the emulated kernel, so both go through the same cases.
//
// The products of two bf16 are exact in fp32 (8-bit mantissas), so the only rounding after the
// packing is the fp32 sum's, and the bounds are sgemm's:
// - small integers are bf16 exactly and keep every sum exact: the result must EQUAL the reference;
// - uniform reals: |c − ref| ≤ (3k + 2)·2^-24·(|alpha|·Σ|a·b| + |beta·c| + |bias|), ref computed
//   from the rounded operands (the rounding itself, up to 2^-9 relative per operand, is the
//   precision's, not an error of the kernel).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import {
  type Case, SCALINGS, SHAPES, TRANSPOSES, exact, integers, matrix, reals, rng, roundToBf16, run, withinBound,
} from './helpers/gemm-cases.js';

function cpuHasBf16(): boolean {
  try {
    return /\bavx512_bf16\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

/** C = op(A)·op(B) with one operand a column of `values` and the other ones: C holds the values as packed. */
function packedValues(values: Float32Array, side: 'a' | 'b', trans: boolean): Float32Array {
  const count = values.length;
  const one = new Float32Array([1]);
  const c = new Float32Array(count);
  // A m×1 (stored 1×m when transA), B 1×1; or A 1×1, B 1×n (stored n×1 when transB).
  if (side === 'a') native.gemmBf16(trans, false, count, 1, 1, 1, values, trans ? count : 1, one, 1, 0, c, 1);
  else native.gemmBf16(false, trans, 1, count, 1, 1, one, 1, values, trans ? 1 : count, 0, c, count);
  return c;
}

describe(`gemmBf16 on ${native.isa()} (${native.bf16Kernel()} kernel)`, () => {
  it('runs vdpbf16ps exactly when the ISA is avx512 and the CPU has AVX512-BF16', () => {
    expect(native.bf16Kernel()).toBe(native.isa() === 'avx512' && cpuHasBf16() ? 'avx512bf16' : 'emulated');
  });

  it('rounds to nearest, ties to even, in both operands and every layout', () => {
    const cases: [number, number][] = [
      [1, 1],
      [1 + 2 ** -8, 1], // a tie: down to the even mantissa
      [1 + 3 * 2 ** -8, 1 + 2 ** -6], // a tie: up to the even mantissa
      [1 + 2 ** -8 + 2 ** -20, 1 + 2 ** -7], // past the tie
      [-(1 + 3 * 2 ** -8), -(1 + 2 ** -6)],
      [257, 256],
      [259, 260],
      [0.1, 0.10009765625],
      [2 ** -126, 2 ** -126], // the smallest normal stays
      [-3, -3],
    ];
    const values = Float32Array.from(cases, ([x]) => x);
    for (const side of ['a', 'b'] as const)
      for (const trans of [false, true]) expect([...packedValues(values, side, trans)], `${side} trans=${trans}`).toEqual(cases.map(([, r]) => r));
  });

  it('keeps NaN and ±Inf, overflows past the largest bf16 to Inf, and flushes subnormals to zero', () => {
    const values = new Float32Array([NaN, Infinity, -Infinity, 3.4028234663852886e38, -3.4e38, 2 ** -149, -1e-40, 2 ** -127, 0]);
    for (const side of ['a', 'b'] as const) {
      for (const trans of [false, true]) {
        const c = packedValues(values, side, trans);
        expect(Number.isNaN(c[0])).toBe(true);
        expect([...c.subarray(1)], `${side} trans=${trans}`).toEqual([Infinity, -Infinity, Infinity, -Infinity, 0, 0, 0, 0]);
      }
    }
  });

  it('packs the bits of roundToBf16 for every kind of float32', () => {
    // Random bit patterns: every exponent (subnormals, NaNs, infinities among them), random mantissas,
    // and one in eight a tie exactly.
    const next = rng(77);
    const bits = new Uint32Array(4000);
    for (let i = 0; i < bits.length; i++) {
      const u = Math.floor(next() * 2 ** 32);
      bits[i] = i % 8 === 0 ? (u & 0xffff0000) | 0x8000 : u;
    }
    const values = new Float32Array(bits.buffer);
    const expected = Array.from(values, (x) => roundToBf16(x));
    for (const side of ['a', 'b'] as const) {
      for (const trans of [false, true]) {
        const c = packedValues(values, side, trans);
        for (let i = 0; i < c.length; i++)
          if (!(c[i] === expected[i] || (Number.isNaN(c[i]) && Number.isNaN(expected[i]))))
            expect.fail(`${side} trans=${trans}: bits 0x${bits[i].toString(16)} gave ${c[i]}, expected ${expected[i]}`);
      }
    }
  });

  it('equals the reference exactly on integer data, every shape and transpose', () => {
    let seed = 1;
    for (const [m, n, k] of SHAPES) {
      for (const [transA, transB] of TRANSPOSES) {
        const [alpha, beta] = SCALINGS[seed % SCALINGS.length];
        const pad: [number, number, number] = [seed % 3, (seed + 1) % 4, (seed + 2) % 3];
        const cs: Case = { transA, transB, m, n, k, alpha, beta, bias: seed % 2 === 0, pad, shared: seed % 5 === 0 };
        exact(run(cs, integers(seed++), 'bf16'));
      }
    }
  });

  it('stays within the fp32 sum bound of the rounded operands on real data, every shape and transpose', () => {
    let seed = 100;
    for (const [m, n, k] of SHAPES) {
      for (const [transA, transB] of TRANSPOSES) {
        const cs: Case = { transA, transB, m, n, k, alpha: 1.3, beta: seed % 2 ? 0 : -0.7, bias: true, pad: [1, 2, 3] };
        withinBound(run(cs, reals(seed++), 'bf16'), k);
      }
    }
  });

  it('runs the three products of a dense layer 784→128', () => {
    const [batch, inputs, outputs] = [50, 784, 128];
    const forward: Case = { transA: false, transB: true, m: batch, n: outputs, k: inputs, alpha: 1, beta: 0, bias: true, pad: [0, 0, 0] };
    const inputGrad: Case = { transA: false, transB: false, m: batch, n: inputs, k: outputs, alpha: 1, beta: 0, bias: false, pad: [0, 0, 0] };
    const weightGrad: Case = { transA: true, transB: false, m: outputs, n: inputs, k: batch, alpha: 1, beta: 0, bias: false, pad: [0, 0, 0] };
    withinBound(run(forward, reals(7), 'bf16'), inputs);
    withinBound(run(inputGrad, reals(8), 'bf16'), outputs);
    withinBound(run(weightGrad, reals(9), 'bf16'), batch);
    withinBound(run({ ...weightGrad, beta: 1 }, reals(10), 'bf16'), batch);
  });

  it('handles empty products, alpha = 0 without reading A or B, and a NaN of A in its row only', () => {
    for (const [m, n] of [[0, 5], [4, 0]]) exact(run({ transA: false, transB: false, m, n, k: 3, alpha: 1, beta: 1, bias: true, pad: [1, 1, 1] }, integers(1), 'bf16'));
    for (const [transA, transB] of TRANSPOSES)
      exact(run({ transA, transB, m: 7, n: 19, k: 0, alpha: 1, beta: 0.5, bias: true, pad: [0, 2, 1] }, integers(2), 'bf16'));
    const c = new Float32Array([1, 2, 3, 4]);
    native.gemmBf16(false, false, 2, 2, 2, 0, new Float32Array(4).fill(NaN), 2, new Float32Array(4).fill(NaN), 2, 3, c, 2, new Float32Array([10, 20]));
    expect([...c]).toEqual([13, 26, 19, 32]);

    const [m, n, k] = [20, 40, 31];
    const a = new Float32Array(m * k).fill(1);
    a[7 * k + 30] = NaN;
    const out = new Float32Array(m * n);
    native.gemmBf16(false, false, m, n, k, 1, a, k, new Float32Array(k * n).fill(1), n, 0, out, n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) expect(Number.isNaN(out[i * n + j])).toBe(i === 7);
  });

  it("gives gemmBf16's bits from a B packed beforehand, whole or in pieces packed apart", () => {
    const align = native.packedBAlignmentBf16();
    let seed = 300;
    for (const [m, n, k] of SHAPES) {
      for (const [transA, transB] of TRANSPOSES) {
        const next = reals(seed++);
        const lda = (transA ? m : k) + 1;
        const ldb = (transB ? k : n) + 2;
        const a = matrix(transA ? k : m, transA ? m : k, lda, next, NaN).view;
        const b = matrix(transB ? n : k, transB ? k : n, ldb, next, NaN).view;
        const bias = matrix(1, n, n, next, NaN).view;
        const beta = seed % 2 ? 0 : 0.5;
        const c0 = matrix(m, n, n, next, 0).view;
        const expected = c0.slice();
        native.gemmBf16(transA, transB, m, n, k, 1.5, a, lda, b, ldb, beta, expected, n, bias);

        // Lanes cut on a panel boundary, depths on a pair: the pieces a worker owns. 0xffff is a
        // NaN in bf16: an element left unwritten shows.
        const size = native.packedBSizeBf16(n, k);
        const whole = new Float32Array(size / 2 + 32);
        const gap = native.alignmentGap(whole);
        const packed = new Uint16Array(whole.buffer, gap * 4, size).fill(0xffff);
        const laneCut = Math.min(n, align * Math.floor(n / align / 2));
        const depthCut = 2 * Math.floor(k / 6);
        for (const [l0, l1] of [[laneCut, n], [0, laneCut]])
          for (const [d0, d1] of [[depthCut, k], [0, depthCut]]) native.packBBf16(transB, n, k, b, ldb, l0, l1, d0, d1, packed);
        expect(packed.includes(0xffff), `${m}×${n}×${k}: a packed element left unwritten`).toBe(false);

        const c = c0.slice();
        native.gemmBf16PackedB(transA, m, n, k, 1.5, a, lda, packed, beta, c, n, bias);
        expect(c, `${m}×${n}×${k} transA=${transA} transB=${transB}`).toEqual(expected);
      }
    }
  });
});
