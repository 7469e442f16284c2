// The native campaign: every function the addon exports, called with random and hostile arguments.
// Each function's parameter kinds are listed here; the list is checked against the addon's exports
// at start, so a new export without a signature (or a signature for a removed one) fails the run.
// Arguments are mostly well-formed with small dimensions, so that many calls get past the checks
// into the kernels, and otherwise hostile: wrong types, negative, fractional, NaN or huge
// dimensions, short, misaligned, overlapping or detached arrays, and arrays on a SharedArrayBuffer
// that another thread rewrites during the call. The only acceptable outcomes are a return, a
// TypeError or a RangeError; typed arrays of their own memory are surrounded by guard bytes,
// checked after each call, so an out-of-bounds write is caught even without a sanitizer.
import { Worker } from 'node:worker_threads';
import { native } from '../src/native.js';
import type { Random } from '../src/util/random.js';
import { type Outcome, pick } from './common.js';

type Kind = 'bool' | 'dim' | 'num' | 'f32' | 'i32' | 'u8' | 'u16' | 'bytes' | 'code' | 'isa' | 'seconds';

/** Parameter kinds in order; a trailing '?' marks an optional parameter. */
const SIGNATURES: Record<string, string> = {
  isa: '',
  availableIsas: '',
  sgemm: 'bool bool dim dim dim num f32 dim f32 dim num f32 dim f32?',
  packedBSize: 'dim dim',
  packedBAlignment: '',
  alignmentGap: 'f32',
  packB: 'bool dim dim f32 dim dim dim dim dim f32',
  sgemmPackedB: 'bool dim dim dim num f32 dim f32 num f32 dim f32?',
  bf16Kernel: '',
  gemmBf16: 'bool bool dim dim dim num f32 dim f32 dim num f32 dim f32?',
  packedBSizeBf16: 'dim dim',
  packedBAlignmentBf16: '',
  packBBf16: 'bool dim dim f32 dim dim dim dim dim u16',
  gemmBf16PackedB: 'bool dim dim dim num f32 dim u16 num f32 dim f32?',
  fmaPeak: 'isa seconds',
  activationForward: 'code num f32 f32 dim',
  activationBackward: 'code num f32 f32 f32 f32 dim',
  softmaxCrossEntropy: 'f32 i32 f32 dim dim',
  softmaxCrossEntropyBackward: 'f32 i32 f32 dim dim num',
  meanSquaredError: 'f32 i32 dim dim',
  meanSquaredErrorBackward: 'f32 i32 f32 dim dim num',
  squaredError: 'f32 f32 dim',
  sigmoidBinaryCrossEntropy: 'f32 f32 f32 dim num',
  targetResidual: 'f32 f32 f32 dim num',
  softmax: 'f32 f32 dim dim',
  countCorrect: 'f32 i32 dim dim',
  argmaxRows: 'f32 dim dim i32',
  layerNormForward: 'f32 f32 f32 f32 f32 f32 dim dim num',
  layerNormBackward: 'f32 f32 f32 f32 f32 f32 f32 f32 dim dim',
  batchNormForward: 'f32 f32 f32 f32 f32 f32 f32 f32 dim dim num num bool',
  batchNormBackward: 'f32 f32 f32 f32 f32 f32 f32 f32 dim dim',
  sgdStep: 'f32 f32 num num',
  momentumStep: 'f32 f32 f32 num num num bool',
  adamStep: 'f32 f32 f32 f32 num num num num num bool dim',
  columnSums: 'f32 dim dim f32 num',
  reduceSlots: 'f32 dim dim dim dim',
  maxAbs: 'f32 dim',
  sumSquares: 'f32 dim',
  scale: 'f32 dim num',
  gatherRows: 'u8 dim i32 dim dim f32 num f32? f32?',
  gatherLabels: 'u8 i32 dim dim i32',
  prefetchRows: 'u8 dim i32 dim dim',
  adviseHugePages: 'bytes',
};

interface Param {
  kind: Kind;
  optional: boolean;
}

const FUNCTIONS = checkedSignatures();

function checkedSignatures(): Map<string, Param[]> {
  const exported = Object.keys(native).filter((name) => typeof (native as unknown as Record<string, unknown>)[name] === 'function');
  const missing = exported.filter((name) => !(name in SIGNATURES));
  const stale = Object.keys(SIGNATURES).filter((name) => !exported.includes(name));
  if (missing.length || stale.length)
    throw new Error(
      `fuzz/native.ts: the signatures do not match the addon's exports` +
        (missing.length ? `; exported without a signature: ${missing.join(', ')}` : '') +
        (stale.length ? `; a signature but not exported: ${stale.join(', ')}` : ''),
    );
  return new Map(
    exported.sort().map((name) => [
      name,
      SIGNATURES[name]
        .split(' ')
        .filter(Boolean)
        .map((p) => ({ kind: p.replace('?', '') as Kind, optional: p.endsWith('?') })),
    ]),
  );
}

/** Values of the wrong type or outside every valid range, for any parameter. */
const HOSTILE: unknown[] = [undefined, null, '3', '', {}, [], [1, 2], 3n, Symbol('x'), () => 1, true, new Date(0), new DataView(new ArrayBuffer(8))];
const BAD_DIMS = [-1, -0, 0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, 1e300, -(2 ** 31)];
const BAD_NUMBERS = [NaN, Infinity, -Infinity, 1e308, -1e308, 5e-324, -0];
const GUARD = 16; // elements of guard on each side of an array of its own memory
const SENTINEL = 0xa5;

/** A SharedArrayBuffer that a worker thread keeps rewriting with random bytes (labels, indices and floats of any value). */
class Scribbler {
  readonly buffer = new SharedArrayBuffer(1 << 16);
  private readonly worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const a = new Uint32Array(workerData);
     let x = 2463534242;
     for (;;) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; a[(x >>> 0) % a.length] = x & 1 ? x : x & 15; }`,
    { eval: true, workerData: this.buffer },
  );

  constructor() {
    this.worker.unref();
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

/** What one call needs to check afterwards: the guard bytes of the arrays it allocated. */
interface Guarded {
  bytes: Uint8Array;
  begin: number;
  end: number;
  name: string;
}

class CallBuilder {
  readonly guards: Guarded[] = [];
  /** When set, every array of the call is a view into this one buffer (overlaps likely). */
  private readonly common: ArrayBuffer | SharedArrayBuffer | null;
  /**
   * The few sizes this call's dimensions are mostly drawn from: equal values (lanes = n, ld =
   * cols, begin = end) are what gets a call past the checks into a kernel's edge cases.
   */
  private readonly sizes: number[];
  /** The length most of this call's arrays have (the optimizers want equal lengths). */
  private readonly length: number;

  constructor(
    private readonly r: Random,
    scribbler: Scribbler,
  ) {
    const mode = r.uniform();
    this.common = mode < 0.1 ? new ArrayBuffer(4096 * 4) : mode < 0.2 ? scribbler.buffer : null;
    this.sizes = Array.from({ length: 1 + r.int(3) }, () => smallDim(r));
    this.length = r.uniform() < 0.5 ? smallLength(r) : pick(r, this.sizes) * pick(r, this.sizes);
  }

  /** An array length: the call's own, a product of its sizes (the length a check asks for, or one less), or any. */
  private arrayLength(): number {
    const { r } = this;
    const roll = r.uniform();
    if (roll < 0.5) return this.length;
    if (roll < 0.75) return Math.max(0, pick(r, this.sizes) * pick(r, this.sizes) - r.int(2));
    return roll < 0.85 ? pick(r, this.sizes) : smallLength(r);
  }

  value(p: Param, index: number): unknown {
    const { r } = this;
    if (r.uniform() < 0.04) return pick(r, HOSTILE);
    switch (p.kind) {
      case 'bool':
        return r.uniform() < 0.97 ? r.uniform() < 0.5 : pick(r, [0, 1, 'true']);
      case 'dim':
        return r.uniform() < 0.9 ? (r.uniform() < 0.75 ? pick(r, this.sizes) : r.uniform() < 0.5 ? 0 : smallDim(r)) : pick(r, BAD_DIMS);
      case 'num':
        return r.uniform() < 0.9 ? pick(r, [0, 1, -1, 0.5, 0.9, 0.999, 1e-8, r.normal(), 2]) : pick(r, BAD_NUMBERS);
      case 'code':
        return r.uniform() < 0.9 ? r.int(6) : pick(r, [-1, 99, 2.5, NaN, 2 ** 32]);
      case 'isa':
        return pick(r, [...native.availableIsas(), 'sse', '', 'AVX512', 5]);
      case 'seconds':
        // Valid durations are kept tiny: fmaPeak runs for as long as it is asked to.
        return r.uniform() < 0.5 ? pick(r, [1e-4, 1e-3]) : pick(r, [0, -1, NaN, 60.5, Infinity, 1e9, '1']);
      case 'f32':
      case 'i32':
      case 'u8':
      case 'u16':
      case 'bytes':
        return this.array(p.kind, index);
    }
  }

  private array(kind: 'f32' | 'i32' | 'u8' | 'u16' | 'bytes', index: number): unknown {
    const { r } = this;
    const Type =
      kind === 'f32'
        ? Float32Array
        : kind === 'i32'
          ? Int32Array
          : kind === 'u8'
            ? Uint8Array
            : kind === 'u16'
              ? Uint16Array
              : pick(r, [Float32Array, Uint8Array, Float64Array, Int16Array]);
    const roll = r.uniform();
    if (roll < 0.03) return new (pick(r, [Float64Array, Int32Array, Uint8Array, Float32Array, Uint8ClampedArray, BigInt64Array]))(8);
    if (roll < 0.05) return detached(Type, smallLength(r));
    const length = this.arrayLength();
    if (this.common) {
      const size = this.common.byteLength / Type.BYTES_PER_ELEMENT;
      const start = r.int(Math.max(1, size - length));
      const view = new Type(this.common as ArrayBuffer, start * Type.BYTES_PER_ELEMENT, Math.min(length, size - start));
      if (!(this.common instanceof SharedArrayBuffer)) fill(r, view);
      return view;
    }
    // Guard zones around the view; its start is on a cache line (as packed B must be) or skewed.
    const total = length + 2 * GUARD + 16;
    const backing = new Type(total);
    const bytes = new Uint8Array(backing.buffer);
    bytes.fill(SENTINEL);
    const skew =
      (Type === Float32Array || Type === Uint16Array) && r.uniform() < 0.5 ? alignedSkew(backing.buffer as ArrayBuffer, Type.BYTES_PER_ELEMENT) : r.int(4);
    const view = backing.subarray(GUARD + skew, GUARD + skew + length);
    fill(r, view);
    this.guards.push({
      bytes,
      begin: (GUARD + skew) * Type.BYTES_PER_ELEMENT,
      end: (GUARD + skew + length) * Type.BYTES_PER_ELEMENT,
      name: `argument ${index}`,
    });
    return view;
  }

  /** The first guard byte a call overwrote, described, or null. */
  brokenGuard(): string | null {
    for (const g of this.guards)
      for (let i = 0; i < g.bytes.length; i++)
        if ((i < g.begin || i >= g.end) && g.bytes[i] !== SENTINEL)
          return `${g.name}: byte ${i - g.begin} relative to the view's start was written (view of ${g.end - g.begin} bytes)`;
    return null;
  }
}

/** Elements past GUARD at which a view of this element size starts on a 64-byte boundary. */
function alignedSkew(buffer: ArrayBuffer, elementBytes: number): number {
  const floats = new Float32Array(buffer, 0, buffer.byteLength >> 2);
  return (native.alignmentGap(floats.subarray((GUARD * elementBytes) / 4)) * 4) / elementBytes;
}

function smallDim(r: Random): number {
  const roll = r.uniform();
  return roll < 0.1 ? 0 : roll < 0.9 ? 1 + r.int(8) : 8 + r.int(60);
}

function smallLength(r: Random): number {
  return pick(r, [0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 63, 64, 65, 127, 256, 512, 1024, 4096]);
}

function fill(r: Random, view: (ArrayLike<number> & { [i: number]: number }) | BigInt64Array): void {
  if (view instanceof BigInt64Array) return;
  const integer = !(view instanceof Float32Array || view instanceof Float64Array);
  for (let i = 0; i < view.length; i++) {
    if (integer) view[i] = r.uniform() < 0.95 ? r.int(10) : pick(r, [-1, 255, 256, 2 ** 31 - 1, -(2 ** 31)]);
    else view[i] = r.uniform() < 0.97 ? r.normal() * 4 : pick(r, [NaN, Infinity, -Infinity, 3e38, -3e38, 1e-45]);
  }
}

function detached(
  Type: Float32ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor | Uint16ArrayConstructor | Float64ArrayConstructor | Int16ArrayConstructor,
  length: number,
): unknown {
  const buffer = new ArrayBuffer(length * Type.BYTES_PER_ELEMENT);
  const view = new Type(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return view;
}

export class NativeCampaign {
  private readonly names = [...FUNCTIONS.keys()];
  private readonly scribbler = new Scribbler();

  /** Builds case `r`'s call: the function and its arguments. */
  private build(r: Random): { name: string; args: unknown[]; builder: CallBuilder } {
    const name = pick(r, this.names);
    const params = FUNCTIONS.get(name)!;
    const builder = new CallBuilder(r, this.scribbler);
    let count = params.filter((p) => !p.optional).length + r.int(params.filter((p) => p.optional).length + 1);
    const arity = r.uniform();
    if (arity < 0.03) count = Math.max(0, count - 1 - r.int(2));
    else if (arity < 0.05) count = params.length + 1 + r.int(2);
    const args = Array.from({ length: count }, (_, i) => (i < params.length ? builder.value(params[i], i) : builder.value({ kind: 'f32', optional: true }, i)));
    return { name, args, builder };
  }

  describe(r: Random): string {
    const { name, args } = this.build(r);
    return `native.${name}(${args.map(describeValue).join(', ')})`;
  }

  run(r: Random): Outcome {
    const { name, args, builder } = this.build(r);
    let outcome: Outcome;
    try {
      (native as unknown as Record<string, (...a: unknown[]) => unknown>)[name](...args);
      outcome = { kind: 'ok' };
    } catch (err) {
      outcome =
        err instanceof TypeError || err instanceof RangeError
          ? { kind: err.constructor.name }
          : { kind: 'failure', message: `threw ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)}` };
    }
    const broken = builder.brokenGuard();
    return broken ? { kind: 'failure', message: `${name} wrote out of bounds: ${broken}` } : outcome;
  }

  async close(): Promise<void> {
    await this.scribbler.stop();
  }
}

function describeValue(v: unknown): string {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const t = v as unknown as { length: number; byteOffset: number; buffer: ArrayBufferLike; constructor: { name: string } };
    const shared = t.buffer instanceof SharedArrayBuffer ? ', shared' : '';
    const state = t.buffer.byteLength === 0 && t.length === 0 ? ', detached or empty' : '';
    return `${t.constructor.name}(${t.length} at byte ${t.byteOffset} of ${t.buffer.byteLength}${shared}${state})`;
  }
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol' || typeof v === 'function') return String(v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
