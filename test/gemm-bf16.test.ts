// What is the bf16 GEMM's own: which kernel runs, and the rounding its packing does (the products
// themselves go through test/gemm.test.ts's cases). vitest.config.ts runs this file once per ISA
// the CPU supports: avx512 runs vdpbf16ps where the CPU has AVX512-BF16, every other ISA the
// emulated kernel, and both must round as roundToBf16 (helpers/gemm-cases.ts) does.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import { rng, roundToBf16 } from './helpers/gemm-cases.js';

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
});
