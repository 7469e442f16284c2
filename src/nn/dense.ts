// The dense layer, forward and backward side by side: z = x·Wᵀ + b with W stored outputs × inputs.
import { type GemmPackedBArgs, type PackBArgs, native } from '../native.js';
import { alignedSharedFloats } from '../util/shared-memory.js';

/**
 * The operands of a layer's matrix products: fp32 (sgemm), or bf16 (gemmBf16: x, W and the
 * gradients rounded to bf16 as they are packed, the products summed in fp32 into fp32 outputs).
 * Everything else (the weights themselves, the bias, the optimizer, the loss) stays fp32.
 */
export type Precision = 'fp32' | 'bf16';

/** A packed op(B): floats for fp32, bf16 bit patterns for bf16. */
export type PackedArray = Float32Array | Uint16Array;

/** The native products of one precision, with the packed operand typed as either array. */
interface Products {
  gemm: typeof native.sgemm;
  gemmPackedB(...args: GemmPackedBArgs<PackedArray>): void;
  packB(...args: PackBArgs<PackedArray>): void;
  packedBSize(n: number, k: number): number;
  packedBAlignment(): number;
  /** `length` elements of a packed B on a 64-byte boundary, in shared memory. */
  allocate(length: number): PackedArray;
}

const PRODUCTS: Record<Precision, Products> = {
  // The addon's functions themselves (they ignore `this`): no wrapper on the training step's path.
  fp32: {
    gemm: native.sgemm,
    gemmPackedB: native.sgemmPackedB,
    packB: native.packB,
    packedBSize: native.packedBSize,
    packedBAlignment: native.packedBAlignment,
    allocate: (length) => alignedSharedFloats(length),
  },
  bf16: {
    gemm: native.gemmBf16,
    gemmPackedB: native.gemmBf16PackedB,
    packB: native.packBBf16,
    packedBSize: native.packedBSizeBf16,
    packedBAlignment: native.packedBAlignmentBf16,
    allocate: (length) => {
      const floats = alignedSharedFloats(Math.ceil(length / 2));
      return new Uint16Array(floats.buffer, floats.byteOffset, length);
    },
  },
};

export interface DenseParams {
  inputs: number;
  outputs: number;
  weight: Float32Array;
  bias: Float32Array;
  /** The products' precision (default fp32). */
  precision?: Precision;
  /** W packed for the products that read it, in their precision; it must hold the current W (see packDenseWeight). */
  packed?: PackedWeight;
}

/**
 * A layer's weights as the GEMM micro-kernel reads them, packed once per optimizer step instead of
 * inside every product: the data-parallel workers each pack the rows they update and all of them
 * read the whole, so no worker repacks the others' rows (the packed product gives the unpacked one's bits).
 */
export interface PackedWeight {
  /** op(B) = Wᵀ of the forward product x·Wᵀ. */
  forward: PackedArray;
  /** op(B) = W of the input gradient dz·W; null for the first layer, whose input gradient is never needed. */
  inputGrad: PackedArray | null;
}

function products(p: DenseParams): Products {
  return PRODUCTS[p.precision ?? 'fp32'];
}

export function denseForward(p: DenseParams, x: Float32Array, rows: number, z: Float32Array): void {
  const g = products(p);
  if (p.packed) g.gemmPackedB(false, rows, p.outputs, p.inputs, 1, x, p.inputs, p.packed.forward, 0, z, p.outputs, p.bias);
  else g.gemm(false, true, rows, p.outputs, p.inputs, 1, x, p.inputs, p.weight, p.inputs, 0, z, p.outputs, p.bias);
}

/** Writes dW and db (adds to them when accumulating over the chunks of a batch). */
export function denseWeightGradient(
  p: DenseParams,
  x: Float32Array,
  dz: Float32Array,
  rows: number,
  dW: Float32Array,
  db: Float32Array,
  accumulate = false,
): void {
  products(p).gemm(true, false, p.outputs, p.inputs, rows, 1, dz, p.outputs, x, p.inputs, accumulate ? 1 : 0, dW, p.inputs);
  denseBiasGradient(p, dz, rows, db, accumulate);
}

/**
 * Shared, 64-byte aligned room for a layer's input x over `depth` rows, packed as op(B) of its weight
 * gradient dzᵀ·x in `precision` (by several threads, each its own rows: packDenseInput).
 */
export function allocatePackedInput(inputs: number, depth: number, precision: Precision = 'fp32'): PackedArray {
  const g = PRODUCTS[precision];
  return g.allocate(g.packedBSize(inputs, depth));
}

/**
 * Packs rows [row0, row1) of x (`depth` rows in all; row0 even, and row1 unless it is depth) into
 * `packed`. `stream` writes them past the caches (native packB).
 */
export function packDenseInput(p: DenseParams, x: Float32Array, depth: number, row0: number, row1: number, packed: PackedArray, stream = false): void {
  products(p).packB(false, p.inputs, depth, x, p.inputs, 0, p.inputs, row0, row1, packed, stream);
}

/** Writes rows [row0, row1) of dW = dzᵀ·x over `depth` rows into `dW` (those rows only), x packed whole by packDenseInput. */
export function denseWeightRows(p: DenseParams, packedX: PackedArray, dz: Float32Array, depth: number, row0: number, row1: number, dW: Float32Array): void {
  products(p).gemmPackedB(true, row1 - row0, p.inputs, depth, 1, dz.subarray(row0), p.outputs, packedX, 0, dW, p.inputs);
}

/** Writes db, the column sums of dz (adds to it when accumulating). */
export function denseBiasGradient(p: DenseParams, dz: Float32Array, rows: number, db: Float32Array, accumulate = false): void {
  native.columnSums(dz, rows, p.outputs, db, accumulate ? 1 : 0);
}

/** Writes dx = dz·W, the gradient passed to the layer below. */
export function denseInputGradient(p: DenseParams, dz: Float32Array, rows: number, dx: Float32Array): void {
  const g = products(p);
  if (p.packed?.inputGrad) g.gemmPackedB(false, rows, p.inputs, p.outputs, 1, dz, p.outputs, p.packed.inputGrad, 0, dx, p.inputs);
  else g.gemm(false, false, rows, p.inputs, p.outputs, 1, dz, p.outputs, p.weight, p.inputs, 0, dx, p.inputs);
}

/** Shared, 64-byte aligned buffers for a layer's packed weights in `precision`. */
export function allocatePackedWeight(inputs: number, outputs: number, withInputGrad: boolean, precision: Precision = 'fp32'): PackedWeight {
  const g = PRODUCTS[precision];
  return {
    forward: g.allocate(g.packedBSize(outputs, inputs)),
    inputGrad: withInputGrad ? g.allocate(g.packedBSize(inputs, outputs)) : null,
  };
}

/** Row ranges given to packDenseWeight start on a multiple of this (the packed panels' width in `precision`). */
export function packedWeightAlignment(precision: Precision = 'fp32'): number {
  return PRODUCTS[precision].packedBAlignment();
}

/**
 * Packs rows [row0, row1) of W into p.packed: its lanes of the forward operand Wᵀ, its depths of the
 * input-gradient operand W. row0 is a multiple of packedWeightAlignment(p.precision), and so is row1
 * unless it is p.outputs. `stream` writes them past the caches (native packB).
 */
export function packDenseWeight(p: DenseParams, row0: number, row1: number, stream = false): void {
  const { packed, inputs, outputs, weight } = p;
  if (!packed || row0 >= row1) return;
  const g = products(p);
  g.packB(true, outputs, inputs, weight, inputs, row0, row1, 0, inputs, packed.forward, stream);
  if (packed.inputGrad) g.packB(false, inputs, outputs, weight, inputs, 0, inputs, row0, row1, packed.inputGrad, stream);
}
