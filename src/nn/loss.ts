// Output heads with their losses, forward and backward side by side. Softmax is fused with
// cross-entropy: its backward is (p − y)/n, never the softmax Jacobian times dL/dp; sigmoid is fused
// with binary cross-entropy the same way, from the logits.
import { InvalidOptionError } from '../errors.js';
import { native } from '../native.js';
import { headActivation } from './activations.js';
import type { ModelSpec, Output, Task } from './spec.js';

export const LOSSES = ['cross-entropy', 'mse', 'bce'] as const;
export type Loss = (typeof LOSSES)[number];

/** The loss an output head trains with for a task: the only one it supports there. */
export function defaultLoss(output: Output, task: Task = 'classification'): Loss {
  if (task === 'multilabel') return 'bce';
  return output === 'softmax' ? 'cross-entropy' : 'mse';
}

/** Cross-entropy belongs to softmax, binary cross-entropy to multi-label sigmoid, MSE to the rest. */
export function checkLoss(output: Output, loss: Loss, task: Task = 'classification'): void {
  if (!LOSSES.includes(loss)) throw new InvalidOptionError('loss', `loss must be one of ${LOSSES.join(', ')}, got ${JSON.stringify(loss)}`);
  const expected = defaultLoss(output, task);
  if (loss === expected) return;
  if (loss === 'cross-entropy')
    throw new InvalidOptionError('loss', `loss cross-entropy needs the softmax output, got output ${output} (use loss ${expected})`);
  if (loss === 'bce') throw new InvalidOptionError('loss', `loss bce needs task multilabel (sigmoid outputs against 0/1 targets), got task ${task}`);
  if (output === 'softmax')
    throw new InvalidOptionError('loss', 'loss mse is not supported with the softmax output: use cross-entropy (or a sigmoid/linear output with mse)');
  throw new InvalidOptionError('loss', `task ${task} trains with loss ${expected}, got loss ${loss}`);
}

/** Whether the task's targets are float rows (rows × outputs) rather than class indices. */
export function hasFloatTargets(task: Task): boolean {
  return task !== 'classification';
}

/**
 * Computes the head's output from the last pre-activation z. With targets (class labels for
 * classification, rows × cols floats otherwise), returns the summed loss over the rows
 * (cross-entropy: Σ −log p[label]; MSE: Σ over rows of Σ (out − target)², the target a one-hot row
 * for classes; BCE: Σ over rows and labels); without, 0.
 */
export function headForward(
  spec: ModelSpec, z: Float32Array, out: Float32Array, targets: Int32Array | Float32Array | null, rows: number, cols: number,
): number {
  const n = rows * cols;
  if (spec.task === 'multilabel' && targets) return native.sigmoidBinaryCrossEntropy(z, targets as Float32Array, out, n, spec.sigmoidAlpha);
  if (spec.output === 'softmax') {
    if (targets) return native.softmaxCrossEntropy(z, targets as Int32Array, out, rows, cols);
    native.softmax(z, out, rows, cols);
    return 0;
  }
  const f = headActivation(spec.output, spec);
  native.activationForward(f.code, f.alpha, z, out, n);
  if (!targets) return 0;
  return targets instanceof Float32Array ? native.squaredError(out, targets, n) : native.meanSquaredError(out, targets, rows, cols);
}

/** dz = scale · d(summed loss)/dz; `dout` is scratch for the sigmoid head trained with MSE. */
export function headBackward(
  spec: ModelSpec, z: Float32Array, out: Float32Array, targets: Int32Array | Float32Array, dout: Float32Array, dz: Float32Array,
  rows: number, cols: number, scale: number,
): void {
  const n = rows * cols;
  if (spec.task === 'multilabel') {
    native.targetResidual(out, targets as Float32Array, dz, n, spec.sigmoidAlpha * scale);
    return;
  }
  const mse = (d: Float32Array) =>
    targets instanceof Float32Array
      ? native.targetResidual(out, targets, d, n, 2 * scale)
      : native.meanSquaredErrorBackward(out, targets, d, rows, cols, scale);
  switch (spec.output) {
    case 'softmax':
      native.softmaxCrossEntropyBackward(out, targets as Int32Array, dz, rows, cols, scale);
      return;
    case 'linear':
      mse(dz);
      return;
    case 'sigmoid': {
      const f = headActivation('sigmoid', spec);
      mse(dout);
      native.activationBackward(f.code, f.alpha, z, out, dout, dz, n);
    }
  }
}
