// Output heads with their losses, forward and backward side by side. Softmax is fused with
// cross-entropy: its backward is (p − y)/n, never the softmax Jacobian times dL/dp.
import { native } from '../native.js';
import { headActivation } from './activations.js';
import type { ModelSpec, Output } from './spec.js';

export const LOSSES = ['cross-entropy', 'mse'] as const;
export type Loss = (typeof LOSSES)[number];

/** The loss an output head trains with by default. */
export function defaultLoss(output: Output): Loss {
  return output === 'softmax' ? 'cross-entropy' : 'mse';
}

/** Cross-entropy belongs to softmax; MSE to sigmoid or linear outputs. */
export function checkLoss(output: Output, loss: Loss): void {
  if (!LOSSES.includes(loss)) throw new RangeError(`loss must be one of ${LOSSES.join(', ')}, got ${JSON.stringify(loss)}`);
  if (loss === 'cross-entropy' && output !== 'softmax')
    throw new RangeError(`loss cross-entropy needs the softmax output, got output ${output} (use loss mse)`);
  if (loss === 'mse' && output === 'softmax')
    throw new RangeError('loss mse is not supported with the softmax output: use cross-entropy (or a sigmoid/linear output with mse)');
}

/**
 * Computes the head's output from the last pre-activation z. With labels, returns the summed loss
 * over the rows (cross-entropy: Σ −log p[label]; MSE: Σ over rows of Σ (out − onehot)²); else 0.
 */
export function headForward(
  spec: ModelSpec, z: Float32Array, out: Float32Array, labels: Int32Array | null, rows: number, cols: number,
): number {
  if (spec.output === 'softmax') {
    if (labels) return native.softmaxCrossEntropy(z, labels, out, rows, cols);
    native.softmax(z, out, rows, cols);
    return 0;
  }
  const f = headActivation(spec.output, spec);
  native.activationForward(f.code, f.alpha, z, out, rows * cols);
  return labels ? native.meanSquaredError(out, labels, rows, cols) : 0;
}

/** dz = scale · d(summed loss)/dz; `dout` is scratch for the sigmoid head. */
export function headBackward(
  spec: ModelSpec, z: Float32Array, out: Float32Array, labels: Int32Array, dout: Float32Array, dz: Float32Array,
  rows: number, cols: number, scale: number,
): void {
  switch (spec.output) {
    case 'softmax':
      native.softmaxCrossEntropyBackward(out, labels, dz, rows, cols, scale);
      return;
    case 'linear':
      native.meanSquaredErrorBackward(out, labels, dz, rows, cols, scale);
      return;
    case 'sigmoid': {
      const f = headActivation('sigmoid', spec);
      native.meanSquaredErrorBackward(out, labels, dout, rows, cols, scale);
      native.activationBackward(f.code, f.alpha, z, out, dout, dz, rows * cols);
    }
  }
}
