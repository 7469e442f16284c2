// LayerNorm (per sample, over features) and BatchNorm (per feature, over the batch), forward and
// backward side by side. Both sit between a hidden dense product and its activation.
import { native } from '../native.js';
import type { Norm } from './spec.js';

export interface NormParams {
  kind: Exclude<Norm, 'none'>;
  gamma: Float32Array;
  beta: Float32Array;
  /** BatchNorm only. */
  runningMean?: Float32Array;
  runningVar?: Float32Array;
  eps: number;
  momentum: number;
}

/** Statistics the forward pass saves for the backward pass: per row (layer) or per column (batch). */
export interface NormSaved {
  mean: Float32Array;
  rstd: Float32Array;
}

export function normForward(p: NormParams, x: Float32Array, y: Float32Array, saved: NormSaved, rows: number, cols: number, training: boolean): void {
  if (p.kind === 'layer') {
    native.layerNormForward(x, p.gamma, p.beta, y, saved.mean, saved.rstd, rows, cols, p.eps);
  } else {
    native.batchNormForward(x, p.gamma, p.beta, y, saved.mean, saved.rstd, p.runningMean!, p.runningVar!, rows, cols, p.eps, p.momentum, training);
  }
}

/** Writes dx; overwrites dgamma and dbeta. */
export function normBackward(
  p: NormParams,
  x: Float32Array,
  saved: NormSaved,
  dy: Float32Array,
  dx: Float32Array,
  dgamma: Float32Array,
  dbeta: Float32Array,
  rows: number,
  cols: number,
): void {
  const backward = p.kind === 'layer' ? native.layerNormBackward : native.batchNormBackward;
  backward(x, p.gamma, saved.mean, saved.rstd, dy, dx, dgamma, dbeta, rows, cols);
}
