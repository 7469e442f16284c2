// The dense layer, forward and backward side by side: z = x·Wᵀ + b with W stored outputs × inputs.
import { native } from '../native.js';
import { alignedSharedFloats } from './model.js';

export interface DenseParams {
  inputs: number;
  outputs: number;
  weight: Float32Array;
  bias: Float32Array;
  /** W packed for the products that read it; it must hold the current W (see packDenseWeight). */
  packed?: PackedWeight;
}

/**
 * A layer's weights as the SGEMM micro-kernel reads them, packed once per optimizer step instead of
 * inside every product: the data-parallel workers each pack the rows they update and all of them
 * read the whole, so no worker repacks the others' rows (sgemmPackedB gives sgemm's bits).
 */
export interface PackedWeight {
  /** op(B) = Wᵀ of the forward product x·Wᵀ. */
  forward: Float32Array;
  /** op(B) = W of the input gradient dz·W; null for the first layer, whose input gradient is never needed. */
  inputGrad: Float32Array | null;
}

export function denseForward(p: DenseParams, x: Float32Array, rows: number, z: Float32Array): void {
  if (p.packed) native.sgemmPackedB(false, rows, p.outputs, p.inputs, 1, x, p.inputs, p.packed.forward, 0, z, p.outputs, p.bias);
  else native.sgemm(false, true, rows, p.outputs, p.inputs, 1, x, p.inputs, p.weight, p.inputs, 0, z, p.outputs, p.bias);
}

/** Writes dW and db (adds to them when accumulating over the chunks of a batch). */
export function denseWeightGradient(
  p: DenseParams, x: Float32Array, dz: Float32Array, rows: number, dW: Float32Array, db: Float32Array, accumulate = false,
): void {
  const beta = accumulate ? 1 : 0;
  native.sgemm(true, false, p.outputs, p.inputs, rows, 1, dz, p.outputs, x, p.inputs, beta, dW, p.inputs);
  native.columnSums(dz, rows, p.outputs, db, beta);
}

/** Writes dx = dz·W, the gradient passed to the layer below. */
export function denseInputGradient(p: DenseParams, dz: Float32Array, rows: number, dx: Float32Array): void {
  if (p.packed?.inputGrad) native.sgemmPackedB(false, rows, p.inputs, p.outputs, 1, dz, p.outputs, p.packed.inputGrad, 0, dx, p.inputs);
  else native.sgemm(false, false, rows, p.inputs, p.outputs, 1, dz, p.outputs, p.weight, p.inputs, 0, dx, p.inputs);
}

/** Shared, 64-byte aligned buffers for a layer's packed weights. */
export function allocatePackedWeight(inputs: number, outputs: number, withInputGrad: boolean): PackedWeight {
  return {
    forward: alignedSharedFloats(native.packedBSize(outputs, inputs)),
    inputGrad: withInputGrad ? alignedSharedFloats(native.packedBSize(inputs, outputs)) : null,
  };
}

/**
 * Packs rows [row0, row1) of W into p.packed: its lanes of the forward operand Wᵀ, its depths of the
 * input-gradient operand W. row0 is a multiple of native.packedBAlignment(), and so is row1 unless
 * it is p.outputs.
 */
export function packDenseWeight(p: DenseParams, row0: number, row1: number): void {
  const { packed, inputs, outputs, weight } = p;
  if (!packed || row0 >= row1) return;
  native.packB(true, outputs, inputs, weight, inputs, row0, row1, 0, inputs, packed.forward);
  if (packed.inputGrad) native.packB(false, inputs, outputs, weight, inputs, 0, inputs, row0, row1, packed.inputGrad);
}
