// Output heads with their losses, one table entry per head, and their forward and backward side by
// side. Softmax is fused with cross-entropy: its backward is (p − y)/n, never the softmax Jacobian
// times dL/dp; sigmoid is fused with binary cross-entropy the same way, from the logits, for
// multi-label targets. The other pairs are an activation of the table in activations.ts, trained
// with MSE.
import { InvalidOptionError } from '../errors.js';
import { native } from '../native.js';
import { type ActivationName, activationFn } from './activations.js';
import type { ModelSpec, Task } from './spec.js';

type LossName = 'cross-entropy' | 'mse' | 'bce';

interface HeadDef {
  /** The elementwise activation of the head; null for softmax, fused with its loss. */
  activation: ActivationName | null;
  /** The tasks the head serves, each with the loss it trains with there (the only one it supports). */
  losses: Partial<Record<Task, LossName>>;
  /** The ONNX graph output's name: what the head's values are. */
  onnxOutput: string;
}

export const OUTPUT_HEADS = {
  softmax: { activation: null, losses: { classification: 'cross-entropy' }, onnxOutput: 'probabilities' },
  sigmoid: { activation: 'sigmoid', losses: { classification: 'mse', regression: 'mse', multilabel: 'bce' }, onnxOutput: 'outputs' },
  linear: { activation: 'linear', losses: { classification: 'mse', regression: 'mse' }, onnxOutput: 'outputs' },
} as const satisfies Record<string, HeadDef>;

export type Output = keyof typeof OUTPUT_HEADS;
export const OUTPUTS = Object.keys(OUTPUT_HEADS) as Output[];

type HeadLosses<O extends Output> = (typeof OUTPUT_HEADS)[O]['losses'];
export type Loss = { [O in Output]: HeadLosses<O>[keyof HeadLosses<O>] }[Output];
export const LOSSES = [...new Set(OUTPUTS.flatMap((o) => Object.values(OUTPUT_HEADS[o].losses)))] as Loss[];

/** The loss a head trains with for a task, or undefined where the head does not serve the task. */
function headLoss(output: Output, task: Task): Loss | undefined {
  return (OUTPUT_HEADS[output].losses as Partial<Record<Task, Loss>>)[task];
}

/** The heads that serve a task. */
export function headsFor(task: Task): Output[] {
  return OUTPUTS.filter((o) => headLoss(o, task) !== undefined);
}

/** The loss an output head trains with for a task: the only one it supports there. */
export function defaultLoss(output: Output, task: Task = 'classification'): Loss {
  const loss = headLoss(output, task);
  if (loss === undefined) throw new InvalidOptionError('output', `task ${task} needs the ${headsFor(task).join(' or ')} output, got output ${output}`);
  return loss;
}

/** Each loss goes with the head and task pairs that train with it (OUTPUT_HEADS). */
export function checkLoss(output: Output, loss: Loss, task: Task = 'classification'): void {
  if (!LOSSES.includes(loss)) throw new InvalidOptionError('loss', `loss must be one of ${LOSSES.join(', ')}, got ${JSON.stringify(loss)}`);
  const expected = defaultLoss(output, task);
  if (loss === expected) return;
  const losses = (o: Output) => Object.entries(OUTPUT_HEADS[o].losses) as [Task, Loss][];
  const heads = OUTPUTS.filter((o) => losses(o).some(([, l]) => l === loss));
  if (heads.includes(output)) {
    const tasks = losses(output)
      .filter(([, l]) => l === loss)
      .map(([t]) => t);
    throw new InvalidOptionError('loss', `loss ${loss} needs task ${tasks.join(' or ')} with the ${output} output, got task ${task}: use ${expected}`);
  }
  if (heads.length === 1) throw new InvalidOptionError('loss', `loss ${loss} needs the ${heads[0]} output, got output ${output} (use loss ${expected})`);
  throw new InvalidOptionError(
    'loss',
    `loss ${loss} is not supported with the ${output} output: use ${expected} (or a ${heads.join('/')} output with ${loss})`,
  );
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
  spec: ModelSpec,
  z: Float32Array,
  out: Float32Array,
  targets: Int32Array | Float32Array | null,
  rows: number,
  cols: number,
): number {
  const n = rows * cols;
  const { activation } = OUTPUT_HEADS[spec.output];
  if (defaultLoss(spec.output, spec.task) === 'bce' && targets) return native.sigmoidBinaryCrossEntropy(z, targets as Float32Array, out, n, spec.sigmoidAlpha);
  if (activation === null) {
    if (targets) return native.softmaxCrossEntropy(z, targets as Int32Array, out, rows, cols);
    native.softmax(z, out, rows, cols);
    return 0;
  }
  const f = activationFn(activation, spec);
  native.activationForward(f.code, f.alpha, z, out, n);
  if (!targets) return 0;
  return targets instanceof Float32Array ? native.squaredError(out, targets, n) : native.meanSquaredError(out, targets, rows, cols);
}

/** dz = scale · d(summed loss)/dz; `dout` is scratch for a head whose activation is not linear, trained with MSE. */
export function headBackward(
  spec: ModelSpec,
  z: Float32Array,
  out: Float32Array,
  targets: Int32Array | Float32Array,
  dout: Float32Array,
  dz: Float32Array,
  rows: number,
  cols: number,
  scale: number,
): void {
  const n = rows * cols;
  const { activation } = OUTPUT_HEADS[spec.output];
  if (defaultLoss(spec.output, spec.task) === 'bce') {
    native.targetResidual(out, targets as Float32Array, dz, n, spec.sigmoidAlpha * scale);
    return;
  }
  if (activation === null) {
    native.softmaxCrossEntropyBackward(out, targets as Int32Array, dz, rows, cols, scale);
    return;
  }
  const mse = (d: Float32Array) =>
    targets instanceof Float32Array
      ? native.targetResidual(out, targets, d, n, 2 * scale)
      : native.meanSquaredErrorBackward(out, targets, d, rows, cols, scale);
  if (activation === 'linear') {
    mse(dz);
    return;
  }
  const f = activationFn(activation, spec);
  mse(dout);
  native.activationBackward(f.code, f.alpha, z, out, dout, dz, n);
}
