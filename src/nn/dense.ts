// The dense layer, forward and backward side by side: z = x·Wᵀ + b with W stored outputs × inputs.
import { native } from '../native.js';

export interface DenseParams {
  inputs: number;
  outputs: number;
  weight: Float32Array;
  bias: Float32Array;
}

export function denseForward(p: DenseParams, x: Float32Array, rows: number, z: Float32Array): void {
  native.sgemm(false, true, rows, p.outputs, p.inputs, 1, x, p.inputs, p.weight, p.inputs, 0, z, p.outputs, p.bias);
}

/**
 * Writes dW and db (adds to them when accumulating over the chunks of a batch); writes dx unless it
 * is null (the first layer needs no input gradient).
 */
export function denseBackward(
  p: DenseParams, x: Float32Array, dz: Float32Array, rows: number,
  dW: Float32Array, db: Float32Array, dx: Float32Array | null, accumulate = false,
): void {
  const beta = accumulate ? 1 : 0;
  native.sgemm(true, false, p.outputs, p.inputs, rows, 1, dz, p.outputs, x, p.inputs, beta, dW, p.inputs);
  native.columnSums(dz, rows, p.outputs, db, beta);
  if (dx) native.sgemm(false, false, rows, p.inputs, p.outputs, 1, dz, p.outputs, p.weight, p.inputs, 0, dx, p.inputs);
}
