// The checks of the GEMM binding: every bad argument throws the named error, naming the function and
// the argument, before any memory is touched; and a bad FCNN_ISA fails the addon's load clearly.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { native, type Isa } from '../src/native.js';

const fmaPeak = native.fmaPeak as unknown as (...args: unknown[]) => number;
const ALL_ISAS: Isa[] = ['avx512', 'avx2', 'portable'];

// op(A) is m×k, op(B) is k×n; every array exactly as long as its dimensions need.
function validArgs(transA = false, transB = false, m = 3, n = 5, k = 4): unknown[] {
  const lda = (transA ? m : k) + 1;
  const ldb = (transB ? k : n) + 2;
  const ldc = n + 1;
  const length = (rows: number, cols: number, ld: number) => (rows - 1) * ld + cols;
  return [
    transA,
    transB,
    m,
    n,
    k,
    1,
    new Float32Array(transA ? length(k, m, lda) : length(m, k, lda)),
    lda,
    new Float32Array(transB ? length(n, k, ldb) : length(k, n, ldb)),
    ldb,
    0,
    new Float32Array(length(m, n, ldc)),
    ldc,
    new Float32Array(n),
  ];
}

const NAMES = ['transA', 'transB', 'm', 'n', 'k', 'alpha', 'a', 'lda', 'b', 'ldb', 'beta', 'c', 'ldc', 'bias'];
const at = (name: string) => NAMES.indexOf(name);

function withArg(args: unknown[], name: string, value: unknown): unknown[] {
  const copy = [...args];
  copy[at(name)] = value;
  return copy;
}

const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

// The fp32 and the bf16 GEMM take the same arguments and check them alike.
for (const name of ['sgemm', 'gemmBf16'] as const)
  describe(`${name} argument checks`, () => {
    const gemm = native[name] as unknown as (...args: unknown[]) => void;
    const expectError = (args: unknown[], type: typeof TypeError | typeof RangeError, argument: string) => {
      expect(() => gemm(...args)).toThrow(type);
      expect(() => gemm(...args)).toThrow(new RegExp(`^${name}: .*'${argument}'`));
    };

    it('accepts arrays of exactly the needed length, with or without bias', () => {
      for (const [transA, transB] of TRANSPOSES) {
        const args = validArgs(transA, transB);
        expect(() => gemm(...args)).not.toThrow();
        expect(() => gemm(...withArg(args, 'bias', null))).not.toThrow();
        expect(() => gemm(...args.slice(0, 13))).not.toThrow();
      }
    });

    it('rejects a wrong number of arguments', () => {
      expect(() => gemm(...validArgs().slice(0, 12))).toThrow(new RegExp(`^${name}: expected 13 to 14 arguments, got 12`));
      expect(() => gemm(...validArgs(), 1)).toThrow(TypeError);
    });

    it('rejects wrong types, naming the argument', () => {
      const cases: [string, unknown][] = [
        ['transA', 1],
        ['transB', 'yes'],
        ['m', '3'],
        ['n', null],
        ['k', undefined],
        ['alpha', '1'],
        ['a', new Float64Array(64)],
        ['a', [1, 2, 3]],
        ['lda', 5n],
        ['b', new Int32Array(64)],
        ['ldb', {}],
        ['beta', true],
        ['c', null],
        ['ldc', '6'],
        ['bias', new Float64Array(5)],
        ['bias', 0],
      ];
      for (const [name, value] of cases) expectError(withArg(validArgs(), name, value), TypeError, name);
    });

    it('rejects negative, fractional, NaN, infinite and too large dimensions', () => {
      for (const name of ['m', 'n', 'k', 'lda', 'ldb', 'ldc'])
        for (const value of [-1, 1.5, NaN, Infinity, 2 ** 31]) expectError(withArg(validArgs(), name, value), RangeError, name);
    });

    it('rejects non-finite alpha and beta', () => {
      for (const name of ['alpha', 'beta']) for (const value of [NaN, Infinity, -Infinity]) expectError(withArg(validArgs(), name, value), RangeError, name);
    });

    it('rejects each array one element too short, for every transpose', () => {
      for (const [transA, transB] of TRANSPOSES) {
        const args = validArgs(transA, transB);
        for (const name of ['a', 'b', 'c', 'bias']) {
          const array = args[at(name)] as Float32Array;
          expectError(withArg(args, name, array.subarray(0, array.length - 1)), RangeError, name);
        }
      }
    });

    it('rejects a leading dimension smaller than the row width', () => {
      for (const [transA, transB] of TRANSPOSES) {
        const [m, n, k] = [3, 5, 4];
        const args = validArgs(transA, transB, m, n, k);
        expectError(withArg(args, 'lda', (transA ? m : k) - 1), RangeError, 'lda');
        expectError(withArg(args, 'ldb', (transB ? k : n) - 1), RangeError, 'ldb');
        expectError(withArg(args, 'ldc', n - 1), RangeError, 'ldc');
      }
    });

    it('computes needed lengths without 32-bit overflow', () => {
      // 70000·70000 elements wrap to 605032704 in 32 bits; the array must still be too short.
      const args = validArgs();
      const big = { m: 70000, k: 70000, lda: 70000 };
      let a = withArg(withArg(withArg(args, 'm', big.m), 'k', big.k), 'lda', big.lda);
      expectError(a, RangeError, 'a');
      a = withArg(withArg(withArg(args, 'm', 2 ** 31 - 1), 'k', 2 ** 31 - 1), 'lda', 2 ** 31 - 1);
      expectError(a, RangeError, 'a');
      // C alone: k = 0 makes A and B empty.
      const c = [false, false, 70000, 70000, 0, 1, new Float32Array(0), 0, new Float32Array(0), 70000, 0, new Float32Array(16), 70000];
      expectError(c, RangeError, 'c');
    });

    it('rejects C overlapping A, B or the bias, and accepts disjoint views of one buffer', () => {
      const args = validArgs();
      const both = new Float32Array(100);
      expectError(withArg(withArg(args, 'a', both), 'c', both), TypeError, 'c');
      expect(() => gemm(...withArg(withArg(args, 'a', both), 'c', both.subarray(50)))).toThrow(/'c' and 'a' must not overlap/);
      const buffer = new Float32Array(200);
      const b = buffer.subarray(0, (args[at('b')] as Float32Array).length);
      const cLength = (args[at('c')] as Float32Array).length;
      expect(() => gemm(...withArg(withArg(args, 'b', b), 'c', buffer.subarray(b.length - 1, b.length - 1 + cLength)))).toThrow(/'c' and 'b' must not overlap/);
      expect(() => gemm(...withArg(withArg(args, 'b', b), 'c', buffer.subarray(b.length, b.length + cLength)))).not.toThrow();
      const c = args[at('c')] as Float32Array;
      expect(() => gemm(...withArg(args, 'bias', c.subarray(0, 5)))).toThrow(/'c' and 'bias' must not overlap/);
    });
  });

describe('packB and sgemmPackedB argument checks', () => {
  const packB = native.packB as unknown as (...args: unknown[]) => void;
  const sgemmPackedB = native.sgemmPackedB as unknown as (...args: unknown[]) => void;
  const align = native.packedBAlignment();
  // Two whole panels and a partial one, whatever the micro-kernel's width.
  const [m, n, k] = [3, 2 * align + 5, 20];
  const packedFloats = () => {
    const whole = new Float32Array(native.packedBSize(n, k) + 16);
    const gap = native.alignmentGap(whole);
    return whole.subarray(gap, gap + native.packedBSize(n, k));
  };
  // op(B) is k×n, B stored n×k (transB).
  const packArgs = (packed = packedFloats()): unknown[] => [true, n, k, new Float32Array(n * k), k, 0, n, 0, k, packed];

  it('sizes and aligns the packed B as the micro-kernel needs', () => {
    expect(align).toBeGreaterThanOrEqual(4);
    expect(native.packedBSize(n, k)).toBe(Math.ceil(n / align) * align * k);
    const x = new Float32Array(64);
    const gap = native.alignmentGap(x);
    expect(gap).toBeGreaterThanOrEqual(0);
    expect(gap).toBeLessThan(16);
    expect(native.alignmentGap(x.subarray(gap))).toBe(0);
    expect(native.alignmentGap(x.subarray(gap + 1))).toBe(15);
  });

  it('accepts a whole range, and ranges cut on a panel boundary', () => {
    expect(() => packB(...packArgs())).not.toThrow();
    const args = packArgs();
    for (const [l0, l1] of [
      [0, align],
      [align, n],
      [2 * align, 2 * align],
    ]) {
      const copy = [...args];
      [copy[5], copy[6]] = [l0, l1];
      expect(() => packB(...copy)).not.toThrow();
    }
  });

  it('rejects lanes or depths outside op(B), and lanes off a panel boundary', () => {
    const withRange = (l0: number, l1: number, d0: number, d1: number) => {
      const args = packArgs();
      [args[5], args[6], args[7], args[8]] = [l0, l1, d0, d1];
      return () => packB(...args);
    };
    expect(withRange(0, n + 1, 0, k)).toThrow(`packB: lanes [0, ${n + 1}) must lie within [0, n = ${n})`);
    expect(withRange(5, 4, 0, k)).toThrow(RangeError);
    expect(withRange(0, n, 0, k + 1)).toThrow(/^packB: depths \[0, 21\) must lie within \[0, k = 20\)/);
    expect(withRange(0, n, 3, 2)).toThrow(RangeError);
    expect(withRange(1, n, 0, k)).toThrow(/must start and end on multiples of/);
    expect(withRange(0, align + 1, 0, k)).toThrow(/must start and end on multiples of/);
  });

  it('rejects a packed B too short or off a 64-byte boundary, for both functions', () => {
    const short = packedFloats().subarray(0, native.packedBSize(n, k) - 1);
    const whole = new Float32Array(native.packedBSize(n, k) + 16);
    const gap = native.alignmentGap(whole);
    const skewed = whole.subarray(gap + 1, gap + 1 + native.packedBSize(n, k));
    const gemmArgs = (packed: Float32Array) => [false, m, n, k, 1, new Float32Array(m * k), k, packed, 0, new Float32Array(m * n), n];
    for (const [fn, args] of [
      ['packB', packArgs],
      ['sgemmPackedB', gemmArgs],
    ] as const) {
      const call = fn === 'packB' ? packB : sgemmPackedB;
      expect(() => call(...args(short))).toThrow(new RegExp(`^${fn}: .*'packed'.*packedBSize\\(n, k\\)`));
      expect(() => call(...args(skewed))).toThrow(new RegExp(`^${fn}: argument 'packed' must start on a 64-byte boundary`));
    }
    expect(() => sgemmPackedB(...gemmArgs(packedFloats()))).not.toThrow();
  });

  it('packs nothing, and multiplies as k = 0, when n or k is 0', () => {
    // The blocking once divided by the number of blocks of an empty dimension (SIGFPE).
    for (const [nn, kk] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [0, 300],
      [300, 0],
    ]) {
      for (const transB of [false, true]) {
        const packed = new Float32Array(native.packedBSize(nn, kk) + 16);
        const view = packed.subarray(native.alignmentGap(packed));
        const ldb = Math.max(1, transB ? kk : nn);
        expect(() => native.packB(transB, nn, kk, new Float32Array(nn * kk), ldb, 0, nn, 0, kk, view)).not.toThrow();
        const c = new Float32Array(2 * nn).fill(7);
        native.sgemmPackedB(false, 2, nn, kk, 1, new Float32Array(2 * kk), Math.max(1, kk), view, 0, c, Math.max(1, nn));
        expect(Array.from(c)).toEqual(new Array(2 * nn).fill(0));
      }
    }
    expect(() => native.packB(false, 0, 1, new Float32Array(0), 0, 0, 0, 0, 1, new Float32Array(0))).not.toThrow();
  });

  it('rejects C overlapping the packed B', () => {
    const packed = packedFloats();
    expect(() => sgemmPackedB(false, m, n, k, 1, new Float32Array(m * k), k, packed, 0, packed.subarray(0, m * n), n)).toThrow(
      /'c' and 'packed' must not overlap/,
    );
  });
});

describe('packBBf16 and gemmBf16PackedB argument checks', () => {
  const packB = native.packBBf16 as unknown as (...args: unknown[]) => void;
  const gemmPackedB = native.gemmBf16PackedB as unknown as (...args: unknown[]) => void;
  const align = native.packedBAlignmentBf16();
  // Two whole panels and a partial one; an odd depth, whose last pair is half padding.
  const [m, n, k] = [3, 2 * align + 5, 21];
  const size = native.packedBSizeBf16(n, k);
  // A Uint16Array on a 64-byte boundary (alignmentGap counts floats: 2 bf16 each), `skew` elements after it.
  const packedElements = (skew = 0) => {
    const whole = new Float32Array(size / 2 + 32);
    const gap = native.alignmentGap(whole);
    return new Uint16Array(whole.buffer, whole.byteOffset + gap * 4 + skew * 2, size);
  };
  const packArgs = (packed: unknown = packedElements()): unknown[] => [true, n, k, new Float32Array(n * k), k, 0, n, 0, k, packed];
  const gemmArgs = (packed: unknown) => [false, m, n, k, 1, new Float32Array(m * k), k, packed, 0, new Float32Array(m * n), n];

  it('sizes the packed B in whole panels and whole pairs of depths', () => {
    expect(align).toBeGreaterThanOrEqual(4);
    expect(size).toBe(Math.ceil(n / align) * align * (k + 1));
    expect(native.packedBSizeBf16(n, 20)).toBe(Math.ceil(n / align) * align * 20);
    expect(() => packB(...packArgs())).not.toThrow();
    expect(() => gemmPackedB(...gemmArgs(packedElements()))).not.toThrow();
  });

  it('takes the packed B as a Uint16Array', () => {
    expect(() => packB(...packArgs(new Float32Array(size)))).toThrow(/^packBBf16: argument 'packed' must be a Uint16Array/);
    expect(() => gemmPackedB(...gemmArgs(new Int16Array(size)))).toThrow(/^gemmBf16PackedB: argument 'packed' must be a Uint16Array/);
  });

  it('rejects depth ranges that split a pair, lanes off a panel, and ranges outside op(B)', () => {
    const withRange = (l0: number, l1: number, d0: number, d1: number) => {
      const args = packArgs();
      [args[5], args[6], args[7], args[8]] = [l0, l1, d0, d1];
      return () => packB(...args);
    };
    expect(withRange(0, n, 4, k)).not.toThrow();
    expect(withRange(0, n, 0, 6)).not.toThrow();
    expect(withRange(0, n, 3, k)).toThrow('packBBf16: depths [3, 21) must start and end on even depths (bf16 pairs), or end at k = 21');
    expect(withRange(0, n, 0, 5)).toThrow(/^packBBf16: depths \[0, 5\) must start and end on even depths/);
    expect(withRange(1, n, 0, k)).toThrow(/must start and end on multiples of \d+ \(packedBAlignmentBf16\(\)\)/);
    expect(withRange(0, n + 1, 0, k)).toThrow(`packBBf16: lanes [0, ${n + 1}) must lie within [0, n = ${n})`);
    expect(withRange(0, n, 0, k + 1)).toThrow(/^packBBf16: depths \[0, 22\) must lie within \[0, k = 21\)/);
  });

  it('rejects a packed B too short or off a 64-byte boundary, and C overlapping it', () => {
    const short = packedElements().subarray(0, size - 1);
    for (const [fn, args] of [
      ['packBBf16', packArgs],
      ['gemmBf16PackedB', gemmArgs],
    ] as const) {
      const call = fn === 'packBBf16' ? packB : gemmPackedB;
      expect(() => call(...args(short))).toThrow(new RegExp(`^${fn}: .*'packed'.*packedBSizeBf16\\(n, k\\)`));
      expect(() => call(...args(packedElements(1)))).toThrow(new RegExp(`^${fn}: argument 'packed' must start on a 64-byte boundary$`));
    }
    const packed = packedElements();
    const c = new Float32Array(packed.buffer, packed.byteOffset, m * n);
    expect(() => gemmPackedB(false, m, n, k, 1, new Float32Array(m * k), k, packed, 0, c, n)).toThrow(/'c' and 'packed' must not overlap/);
  });
});

describe('ISA selection', () => {
  it('lists the CPU ISAs best first, portable last, and runs one of them', () => {
    const isas = native.availableIsas();
    expect(isas.at(-1)).toBe('portable');
    expect(isas.every((isa) => ALL_ISAS.includes(isa))).toBe(true);
    expect(isas).toEqual(ALL_ISAS.filter((isa) => isas.includes(isa)));
    expect(native.isa()).toBe(process.env.FCNN_ISA || isas[0]);
  });

  const load = (isa: string) =>
    spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(addonPath())}).isa())`], {
      env: { ...process.env, FCNN_ISA: isa },
      encoding: 'utf8',
    });

  it('fails the load on an unknown FCNN_ISA, naming the variable and the CPU ISAs', () => {
    const child = load('avx9');
    expect(child.status).not.toBe(0);
    expect(child.stderr).toContain('FCNN_ISA=avx9 is not an ISA (expected avx512, avx2 or portable)');
    expect(child.stderr).toContain(`this CPU supports: ${native.availableIsas().join(', ')}`);
  });

  it('fails the load on an ISA this CPU lacks, and loads with any it has', () => {
    for (const isa of ALL_ISAS) {
      const child = load(isa);
      if (native.availableIsas().includes(isa)) {
        expect(child.stderr).toBe('');
        expect(child.stdout.trim()).toBe(isa);
      } else {
        expect(child.status).not.toBe(0);
        expect(child.stderr).toContain(`FCNN_ISA=${isa} names an ISA this CPU does not support`);
      }
    }
  });

  it('measures an FMA peak for each available ISA and checks its arguments', () => {
    for (const isa of native.availableIsas()) expect(native.fmaPeak(isa, 0.01)).toBeGreaterThan(0);
    expect(() => fmaPeak('avx9', 0.01)).toThrow(RangeError);
    expect(() => fmaPeak('avx9', 0.01)).toThrow(`fmaPeak: argument 'isa' must be an ISA this CPU supports (${native.availableIsas().join(', ')}), got 'avx9'`);
    expect(() => fmaPeak(2, 0.01)).toThrow(/^fmaPeak: argument 'isa' must be a string/);
    for (const seconds of [0, -1, 61, NaN]) expect(() => fmaPeak('portable', seconds)).toThrow(/^fmaPeak: argument 'seconds'/);
    expect(() => fmaPeak('portable')).toThrow(TypeError);
  });
});

function addonPath(): string {
  return new URL('../build/Release/fcnn.node', import.meta.url).pathname;
}
