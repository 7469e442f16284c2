// sgemm and gemmBf16 against a float64 TypeScript reference. vitest.config.ts runs this file once
// per ISA the CPU supports (FCNN_ISA), so every micro-kernel and its packing (and the vdpbf16ps and
// the emulated bf16 kernel) go through the same cases; gemm-bf16.test.ts has the bf16 rounding.
//
// Two kinds of data:
// - small integers, with alpha, beta and bias that keep every partial sum an integer (or half
//   integer) below 2^24: float32 computes them exactly in any order, so the result must EQUAL the
//   reference, and a single misplaced or missing term shows;
// - uniform reals, checked against the standard error bound of a float32 dot product: each term
//   passes through at most k + 2·(k blocks) + 2 ≤ 3k + 2 roundings of u = 2^-24, so
//   |c − ref| ≤ (3k + 2)·u·(|alpha|·Σ|a·b| + |beta·c| + |bias|).
// For bf16 the reference multiplies the operands rounded to bf16: a product of two bf16 is exact
// in fp32 (8-bit significands), small integers are bf16 exactly, and the sums are fp32 as in sgemm,
// so the same two checks hold. The cases, their guards and sentinels are in helpers/gemm-cases.ts.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { type GemmPackedBArgs, type PackBArgs, native } from '../src/native.js';
import { type Case, type Precision, SCALINGS, SENTINEL, SHAPES, TRANSPOSES, exact, integers, matrix, reals, run, withinBound } from './helpers/gemm-cases.js';

/** A GEMM of one precision and its packed-B functions, with a packed buffer whose unwritten elements show. */
interface Gemm {
  precision: Precision;
  name: string;
  gemm: typeof native.sgemm;
  packedBSize(n: number, k: number): number;
  packedBAlignment(): number;
  packB(...args: PackBArgs<Float32Array | Uint16Array>): void;
  gemmPackedB(...args: GemmPackedBArgs<Float32Array | Uint16Array>): void;
  /** `size` elements on a 64-byte boundary, every one a NaN until written. */
  packedBuffer(size: number): { packed: Float32Array | Uint16Array; unwritten(): boolean };
}

function alignedFloats(size: number): Float32Array {
  const whole = new Float32Array(size + 16);
  const gap = native.alignmentGap(whole);
  return whole.subarray(gap, gap + size);
}

const GEMMS: Gemm[] = [
  {
    precision: 'fp32',
    name: 'sgemm',
    gemm: native.sgemm,
    packedBSize: native.packedBSize,
    packedBAlignment: native.packedBAlignment,
    packB: native.packB,
    gemmPackedB: native.sgemmPackedB,
    packedBuffer: (size) => {
      const packed = alignedFloats(size).fill(NaN);
      return { packed, unwritten: () => packed.some(Number.isNaN) };
    },
  },
  {
    precision: 'bf16',
    name: 'gemmBf16',
    gemm: native.gemmBf16,
    packedBSize: native.packedBSizeBf16,
    packedBAlignment: native.packedBAlignmentBf16,
    packB: native.packBBf16,
    gemmPackedB: native.gemmBf16PackedB,
    // 0xffff is a NaN in bf16, which no packed operand below holds.
    packedBuffer: (size) => {
      const floats = alignedFloats(Math.ceil(size / 2));
      const packed = new Uint16Array(floats.buffer, floats.byteOffset, size).fill(0xffff);
      return { packed, unwritten: () => packed.includes(0xffff) };
    },
  },
];

describe(`sgemm on ${native.isa()}`, () => {
  it('runs the ISA FCNN_ISA asks for', () => {
    expect(native.availableIsas()).toContain(native.isa());
    if (process.env.FCNN_ISA) expect(native.isa()).toBe(process.env.FCNN_ISA);
  });

  it('computes A·Aᵀ with A passed as both operands', () => {
    const a = matrix(9, 21, 21, integers(5), NaN);
    const c = new Float32Array(81);
    native.sgemm(false, true, 9, 9, 21, 1, a.view, 21, a.view, 21, 0, c, 9);
    for (let i = 0; i < 9; i++) {
      for (let j = 0; j < 9; j++) {
        let dot = 0;
        for (let p = 0; p < 21; p++) dot += a.view[i * 21 + p] * a.view[j * 21 + p];
        expect(c[i * 9 + j]).toBe(dot);
      }
    }
  });

  it('gives those bits from a B too large for the caches, which packB writes with streaming stores', () => {
    // 17 MB packed: over any L2 the addon accepts from the C library (16 MiB at most).
    const [m, n, k] = [5, 2100, 2050];
    const align = native.packedBAlignment();
    for (const transB of [false, true]) {
      const next = reals(transB ? 401 : 400);
      const ldb = transB ? k : n;
      const a = matrix(m, k, k, next, NaN).view;
      const b = matrix(transB ? n : k, transB ? k : n, ldb, next, NaN).view;
      const expected = new Float32Array(m * n);
      native.sgemm(false, transB, m, n, k, 1, a, k, b, ldb, 0, expected, n);
      const size = native.packedBSize(n, k);
      expect(size * 4).toBeGreaterThan(16 << 20);
      const whole = new Float32Array(size + 16).fill(NaN);
      const gap = native.alignmentGap(whole);
      const packed = whole.subarray(gap, gap + size);
      const laneCut = align * 20;
      for (const [l0, l1] of [
        [laneCut, n],
        [0, laneCut],
      ])
        for (const [d0, d1] of [
          [700, k],
          [0, 700],
        ])
          native.packB(transB, n, k, b, ldb, l0, l1, d0, d1, packed);
      expect(packed.some(Number.isNaN)).toBe(false);
      const c = new Float32Array(m * n);
      native.sgemmPackedB(false, m, n, k, 1, a, k, packed, 0, c, n);
      expect(c, `transB=${transB}`).toEqual(expected);
    }
  });

  it('gives the same bits on worker threads, each with its own packing buffers', async () => {
    const [m, n, k] = [70, 90, 600];
    const next = reals(11);
    const shared = (length: number) => {
      const x = new Float32Array(new SharedArrayBuffer(length * 4));
      for (let i = 0; i < length; i++) x[i] = next();
      return x;
    };
    const a = shared(m * k);
    const b = shared(n * k);
    const expected = new Float32Array(m * n);
    native.sgemm(false, true, m, n, k, 1, a, k, b, k, 0, expected, n);
    const outputs = [0, 1].map(() => new Float32Array(new SharedArrayBuffer(m * n * 4)));
    const source = `
      const { workerData, parentPort } = require('node:worker_threads');
      const native = require(workerData.addon);
      const { m, n, k, a, b, c } = workerData;
      for (let r = 0; r < 3; r++) native.sgemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n);
      parentPort.postMessage(native.isa());`;
    const addon = new URL('../build/Release/fcnn.node', import.meta.url).pathname;
    const isas = await Promise.all(
      outputs.map(
        (c) =>
          new Promise<string>((resolve, reject) => {
            const worker = new Worker(source, { eval: true, workerData: { addon, m, n, k, a, b, c } });
            worker.once('message', resolve);
            worker.once('error', reject);
          }),
      ),
    );
    expect(isas).toEqual([native.isa(), native.isa()]);
    for (const c of outputs) expect(c).toEqual(expected);
  });
});

for (const { precision, name, gemm, packedBSize, packedBAlignment, packB, gemmPackedB, packedBuffer } of GEMMS) {
  describe(`${name} on ${native.isa()}`, () => {
    it('equals the reference exactly on integer data, every shape and transpose', () => {
      let seed = 1;
      for (const [m, n, k] of SHAPES) {
        for (const [transA, transB] of TRANSPOSES) {
          const [alpha, beta] = SCALINGS[seed % SCALINGS.length];
          const pad: [number, number, number] = [seed % 3, (seed + 1) % 4, (seed + 2) % 3];
          const cs: Case = { transA, transB, m, n, k, alpha, beta, bias: seed % 2 === 0, pad, shared: seed % 5 === 0 };
          exact(run(cs, integers(seed++), precision));
        }
      }
    });

    it('stays within the K·eps bound on real data, every shape and transpose', () => {
      let seed = 100;
      for (const [m, n, k] of SHAPES) {
        for (const [transA, transB] of TRANSPOSES) {
          const cs: Case = { transA, transB, m, n, k, alpha: 1.3, beta: seed % 2 ? 0 : -0.7, bias: true, pad: [1, 2, 3] };
          withinBound(run(cs, reals(seed++), precision), k);
        }
      }
    });

    it('runs the three products of a dense layer 784→128', () => {
      // W is out×in; y = x·Wᵀ + b, dX = dY·W, dW = dYᵀ·X (overwritten, then accumulated).
      const [batch, inputs, outputs] = [50, 784, 128];
      const forward: Case = { transA: false, transB: true, m: batch, n: outputs, k: inputs, alpha: 1, beta: 0, bias: true, pad: [0, 0, 0] };
      const inputGrad: Case = { transA: false, transB: false, m: batch, n: inputs, k: outputs, alpha: 1, beta: 0, bias: false, pad: [0, 0, 0] };
      const weightGrad: Case = { transA: true, transB: false, m: outputs, n: inputs, k: batch, alpha: 1, beta: 0, bias: false, pad: [0, 0, 0] };
      withinBound(run(forward, reals(7), precision), inputs);
      withinBound(run(inputGrad, reals(8), precision), outputs);
      withinBound(run(weightGrad, reals(9), precision), batch);
      withinBound(run({ ...weightGrad, beta: 1 }, reals(10), precision), batch);
    });

    it('handles empty products: m or n = 0 writes nothing, k = 0 gives beta·C + bias', () => {
      for (const [m, n] of [
        [0, 5],
        [4, 0],
        [0, 0],
      ])
        exact(run({ transA: false, transB: false, m, n, k: 3, alpha: 1, beta: 1, bias: true, pad: [1, 1, 1] }, integers(1), precision));
      for (const [transA, transB] of TRANSPOSES) {
        exact(run({ transA, transB, m: 7, n: 19, k: 0, alpha: 1, beta: 0.5, bias: true, pad: [0, 2, 1] }, integers(2), precision));
        exact(run({ transA, transB, m: 7, n: 19, k: 0, alpha: 1, beta: 0, bias: true, pad: [0, 2, 1] }, integers(3), precision));
        exact(run({ transA, transB, m: 7, n: 19, k: 0, alpha: 1, beta: -2, bias: false, pad: [0, 2, 1] }, integers(4), precision));
      }
    });

    it('reads neither A nor B when alpha = 0 (BLAS), and propagates a NaN of A to its row only', () => {
      const c = new Float32Array([1, 2, 3, 4]);
      gemm(false, false, 2, 2, 2, 0, new Float32Array(4).fill(NaN), 2, new Float32Array(4).fill(NaN), 2, 3, c, 2, new Float32Array([10, 20]));
      expect([...c]).toEqual([13, 26, 19, 32]);

      const [m, n, k] = [20, 40, 30];
      const a = new Float32Array(m * k).fill(1);
      a[7 * k + 11] = NaN;
      const out = new Float32Array(m * n);
      gemm(false, false, m, n, k, 1, a, k, new Float32Array(k * n).fill(1), n, 0, out, n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) expect(Number.isNaN(out[i * n + j])).toBe(i === 7);
    });

    it(`gives ${name}'s bits from a B packed beforehand, in pieces packed apart, with or without streaming stores`, () => {
      const align = packedBAlignment();
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
          const c0 = matrix(m, n, n, next, SENTINEL).view;
          const expected = c0.slice();
          gemm(transA, transB, m, n, k, 1.5, a, lda, b, ldb, beta, expected, n, bias);

          // Lanes cut on a panel boundary, depths on a pair (bf16 packs pairs of depths whole): the
          // pieces a worker owns, half of them written past the caches.
          const { packed, unwritten } = packedBuffer(packedBSize(n, k));
          const laneCut = Math.min(n, align * Math.floor(n / align / 2));
          const depthCut = precision === 'bf16' ? 2 * Math.floor(k / 6) : Math.floor(k / 3);
          let piece = seed;
          for (const [l0, l1] of [
            [laneCut, n],
            [0, laneCut],
          ])
            for (const [d0, d1] of [
              [depthCut, k],
              [0, depthCut],
            ])
              packB(transB, n, k, b, ldb, l0, l1, d0, d1, packed, piece++ % 2 === 0);
          expect(unwritten(), `${m}×${n}×${k}: a packed element left unwritten`).toBe(false);

          const c = c0.slice();
          gemmPackedB(transA, m, n, k, 1.5, a, lda, packed, beta, c, n, bias);
          expect(c, `${m}×${n}×${k} transA=${transA} transB=${transB}`).toEqual(expected);
        }
      }
    });
  });
}
