// The whole network as plain float64 loops, written straight from the definitions and sharing
// nothing with the fast path: the independent reference for tests and for gradient checking
// (central differences need float64 to resolve small steps), with the float64 forms of its parts
// (activation, softmax, LayerNorm, BatchNorm) that the kernels' tests compare against. Slow by design.
import { ACTIVATIONS, type ActivationDef, type ActivationName } from './activations.js';
import { layoutOf, type TensorInfo } from './layout.js';
import { type Loss, OUTPUT_HEADS } from './loss.js';
import type { ModelSpec } from './spec.js';

/** 'train': BatchNorm uses the batch statistics; 'eval': the running statistics. */
export type ForwardMode = 'train' | 'eval';

/** Float32Array or Float64Array slabs; values are read as numbers. */
type Slab = ArrayLike<number>;

/** The network's outputs after its head: rows × classes. */
export function referenceForward(spec: ModelSpec, params: Slab, buffers: Slab, x: Float64Array, rows: number, mode: ForwardMode): Float64Array {
  const logits = referenceLogits(spec, params, buffers, x, rows, mode);
  const classes = spec.layers[spec.layers.length - 1];
  const out = new Float64Array(logits.length);
  for (let r = 0; r < rows; r++) {
    const z = logits.subarray(r * classes, (r + 1) * classes);
    const o = out.subarray(r * classes, (r + 1) * classes);
    const { activation } = OUTPUT_HEADS[spec.output];
    if (activation === null) {
      const lse = logSumExp(z);
      for (let c = 0; c < classes; c++) o[c] = Math.exp(z[c] - lse);
    } else {
      const f = activate(spec, activation);
      for (let c = 0; c < classes; c++) o[c] = f(z[c]);
    }
  }
  return out;
}

/**
 * Mean loss over the rows. `targets` are class labels (an Int32Array, one per row) or float rows
 * (rows × outputs: regression values, multi-label 0/1). Cross-entropy (softmax head, labels) is
 * −log softmax(z)[label] by log-sum-exp on the logits, finite even where the probability underflows;
 * MSE is the mean over samples of Σ over outputs (out − target)² on the outputs after the head, the
 * target a one-hot row for labels; binary cross-entropy (sigmoid head, float rows) is, per output,
 * softplus(a) − t·a on the head's input a = alpha·z, the stable form of −t·log σ(a) − (1 − t)·log(1 − σ(a)).
 */
export function referenceLoss(
  spec: ModelSpec,
  params: Slab,
  buffers: Slab,
  x: Float64Array,
  targets: Int32Array | Float32Array | Float64Array,
  rows: number,
  loss: Loss,
  mode: ForwardMode,
): number {
  const classes = spec.layers[spec.layers.length - 1];
  const labels = targets instanceof Int32Array ? targets : null;
  if (labels) {
    if (labels.length !== rows) throw new RangeError(`labels has ${labels.length} elements, expected rows = ${rows}`);
    labels.forEach((label, r) => {
      if (!(label >= 0 && label < classes)) throw new RangeError(`labels[${r}] = ${label} is not a class in [0, ${classes})`);
    });
  } else if (targets.length !== rows * classes) throw new RangeError(`targets has ${targets.length} elements, expected rows × outputs = ${rows} × ${classes}`);
  if (loss === 'cross-entropy' && (spec.output !== 'softmax' || !labels))
    throw new RangeError(`cross-entropy needs the softmax output head and class labels, the spec has ${spec.output}`);
  if (loss === 'bce' && (spec.output !== 'sigmoid' || labels))
    throw new RangeError(`binary cross-entropy needs the sigmoid output head and float targets, the spec has ${spec.output}`);

  const values = loss === 'mse' ? referenceForward(spec, params, buffers, x, rows, mode) : referenceLogits(spec, params, buffers, x, rows, mode);
  const target = (r: number, c: number) => (labels ? (c === labels[r] ? 1 : 0) : targets[r * classes + c]);
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const v = values.subarray(r * classes, (r + 1) * classes);
    if (loss === 'cross-entropy') {
      sum += logSumExp(v) - v[labels![r]];
    } else if (loss === 'bce') {
      for (let c = 0; c < classes; c++) {
        const a = spec.sigmoidAlpha * v[c];
        sum += Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a))) - target(r, c) * a;
      }
    } else {
      for (let c = 0; c < classes; c++) {
        const d = v[c] - target(r, c);
        sum += d * d;
      }
    }
  }
  return sum / rows;
}

/** Everything before the output head: rows × classes. */
function referenceLogits(spec: ModelSpec, params: Slab, buffers: Slab, x: Float64Array, rows: number, mode: ForwardMode): Float64Array {
  const layout = layoutOf(spec);
  if (!(Number.isInteger(rows) && rows >= 1)) throw new RangeError(`rows must be a positive integer, got ${rows}`);
  if (params.length !== layout.paramCount) throw new RangeError(`params has ${params.length} elements, the layout needs ${layout.paramCount}`);
  if (buffers.length !== layout.bufferCount) throw new RangeError(`buffers has ${buffers.length} elements, the layout needs ${layout.bufferCount}`);
  if (x.length !== rows * spec.layers[0]) throw new RangeError(`x has ${x.length} elements, expected rows × inputs = ${rows * spec.layers[0]}`);

  const f = activate(spec, spec.activation);
  let a: Float64Array = x;
  const last = layout.layers.length - 1;
  layout.layers.forEach((layer, l) => {
    const { inputs, outputs } = layer;
    const w = read(params, layer.weight);
    const b = read(params, layer.bias);
    let z: Float64Array = new Float64Array(rows * outputs);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < outputs; o++) {
        let s = b[o];
        for (let i = 0; i < inputs; i++) s += a[r * inputs + i] * w[o * inputs + i];
        z[r * outputs + o] = s;
      }
    }
    if (l < last) {
      // The head is applied by the caller.
      if (layer.norm) {
        const input: NormInput = { x: z, gamma: read(params, layer.norm.weight), beta: read(params, layer.norm.bias), rows, cols: outputs, eps: spec.normEps };
        if (spec.norm === 'layer') z = layerNorm(input).y;
        else if (mode === 'train') z = batchNormTraining(input).y;
        else z = batchNormEval(input, read(buffers, layer.norm.runningMean!), read(buffers, layer.norm.runningVar!));
      }
      for (let k = 0; k < z.length; k++) z[k] = f(z[k]);
    }
    a = z;
  });
  return a;
}

/** The activation `name` as a function of z, with its parameter taken from the spec. */
function activate(spec: ModelSpec, name: ActivationName): (z: number) => number {
  const def: ActivationDef = ACTIVATIONS[name];
  const alpha = def.parameter === null ? 0 : spec[def.parameter];
  return (z) => def.f(z, alpha);
}

/** ln Σ e^z, shifted by the maximum so that nothing overflows. */
export function logSumExp(z: ArrayLike<number>): number {
  let max = -Infinity;
  for (let c = 0; c < z.length; c++) if (z[c] > max) max = z[c];
  let sum = 0;
  for (let c = 0; c < z.length; c++) sum += Math.exp(z[c] - max);
  return max + Math.log(sum);
}

/** Softmax of finite rows, and the cross-entropy of each row against its label (their sum in `loss`). */
export function softmaxCrossEntropy(x: ArrayLike<number>, labels: ArrayLike<number>, rows: number, cols: number) {
  const probs = new Float64Array(rows * cols);
  const losses = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: cols }, (_, j) => x[r * cols + j]);
    const lse = logSumExp(row);
    for (let j = 0; j < cols; j++) probs[r * cols + j] = Math.exp(row[j] - lse);
    losses[r] = lse - row[labels[r]];
  }
  return { probs, losses, loss: losses.reduce((a, b) => a + b, 0) };
}

export interface NormInput {
  x: ArrayLike<number>;
  gamma: ArrayLike<number>;
  beta: ArrayLike<number>;
  rows: number;
  cols: number;
  eps: number;
}

/** Mean and biased variance of n values read through at(i), in two passes. */
function moments(n: number, at: (i: number) => number): { mean: number; variance: number } {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += at(i);
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (at(i) - mean) ** 2;
  return { mean, variance: squares / n };
}

/** Each row to zero mean and unit (biased) variance, then scaled by gamma and shifted by beta. */
export function layerNorm({ x, gamma, beta, rows, cols, eps }: NormInput) {
  const y = new Float64Array(rows * cols),
    mean = new Float64Array(rows),
    rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const m = moments(cols, (j) => x[r * cols + j]);
    mean[r] = m.mean;
    rstd[r] = 1 / Math.sqrt(m.variance + eps);
    for (let j = 0; j < cols; j++) y[r * cols + j] = (x[r * cols + j] - mean[r]) * rstd[r] * gamma[j] + beta[j];
  }
  return { y, mean, rstd };
}

/** BatchNorm with the batch statistics (biased variance); unbiasedVar is what the running variance moves toward. */
export function batchNormTraining({ x, gamma, beta, rows, cols, eps }: NormInput) {
  const y = new Float64Array(rows * cols),
    mean = new Float64Array(cols),
    rstd = new Float64Array(cols);
  const unbiasedVar = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    const m = moments(rows, (r) => x[r * cols + j]);
    mean[j] = m.mean;
    rstd[j] = 1 / Math.sqrt(m.variance + eps);
    unbiasedVar[j] = (m.variance * rows) / (rows - 1);
    for (let r = 0; r < rows; r++) y[r * cols + j] = (x[r * cols + j] - mean[j]) * rstd[j] * gamma[j] + beta[j];
  }
  return { y, mean, rstd, unbiasedVar };
}

/** BatchNorm with running statistics (evaluation). */
export function batchNormEval({ x, gamma, beta, rows, cols, eps }: NormInput, runningMean: ArrayLike<number>, runningVar: ArrayLike<number>): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < cols; j++) y[r * cols + j] = ((x[r * cols + j] - runningMean[j]) / Math.sqrt(runningVar[j] + eps)) * gamma[j] + beta[j];
  return y;
}

function read(slab: Slab, t: TensorInfo): Float64Array {
  const out = new Float64Array(t.size);
  for (let k = 0; k < t.size; k++) out[k] = slab[t.offset + k];
  return out;
}
