// The whole network as plain float64 loops, written straight from the definitions and sharing
// nothing with the fast path: the independent reference for tests and for gradient checking
// (central differences need float64 to resolve small steps). Slow by design.
import { layoutOf, type TensorInfo } from './layout.js';
import type { ModelSpec } from './spec.js';

/** 'train': BatchNorm uses the batch statistics; 'eval': the running statistics. */
export type ForwardMode = 'train' | 'eval';
export type LossKind = 'cross-entropy' | 'mse';

/** Float32Array or Float64Array slabs; values are read as numbers. */
type Slab = ArrayLike<number>;

/** The network's outputs after its head: rows × classes. */
export function referenceForward(
  spec: ModelSpec, params: Slab, buffers: Slab, x: Float64Array, rows: number, mode: ForwardMode,
): Float64Array {
  const logits = referenceLogits(spec, params, buffers, x, rows, mode);
  const classes = spec.layers[spec.layers.length - 1];
  const out = new Float64Array(logits.length);
  for (let r = 0; r < rows; r++) {
    const z = logits.subarray(r * classes, (r + 1) * classes);
    const o = out.subarray(r * classes, (r + 1) * classes);
    if (spec.output === 'softmax') {
      const lse = logSumExp(z);
      for (let c = 0; c < classes; c++) o[c] = Math.exp(z[c] - lse);
    } else if (spec.output === 'sigmoid') {
      for (let c = 0; c < classes; c++) o[c] = sigmoid(spec.sigmoidAlpha * z[c]);
    } else {
      o.set(z);
    }
  }
  return out;
}

/**
 * Mean loss over the rows. Cross-entropy (softmax head only) is −log softmax(z)[label] by
 * log-sum-exp on the logits, finite even where the probability underflows; MSE is the mean over
 * samples of Σ over outputs (out − onehot(label))², on the outputs after the head.
 */
export function referenceLoss(
  spec: ModelSpec, params: Slab, buffers: Slab, x: Float64Array, labels: Int32Array, rows: number,
  loss: LossKind, mode: ForwardMode,
): number {
  const classes = spec.layers[spec.layers.length - 1];
  if (labels.length !== rows) throw new RangeError(`labels has ${labels.length} elements, expected rows = ${rows}`);
  labels.forEach((label, r) => {
    if (!(label >= 0 && label < classes)) throw new RangeError(`labels[${r}] = ${label} is not a class in [0, ${classes})`);
  });
  if (loss === 'cross-entropy' && spec.output !== 'softmax')
    throw new RangeError(`cross-entropy needs the softmax output head, the spec has ${spec.output}`);

  const values = loss === 'cross-entropy'
    ? referenceLogits(spec, params, buffers, x, rows, mode)
    : referenceForward(spec, params, buffers, x, rows, mode);
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const v = values.subarray(r * classes, (r + 1) * classes);
    if (loss === 'cross-entropy') {
      sum += logSumExp(v) - v[labels[r]];
    } else {
      for (let c = 0; c < classes; c++) {
        const d = v[c] - (c === labels[r] ? 1 : 0);
        sum += d * d;
      }
    }
  }
  return sum / rows;
}

/** Everything before the output head: rows × classes. */
function referenceLogits(
  spec: ModelSpec, params: Slab, buffers: Slab, x: Float64Array, rows: number, mode: ForwardMode,
): Float64Array {
  const layout = layoutOf(spec);
  if (!(Number.isInteger(rows) && rows >= 1)) throw new RangeError(`rows must be a positive integer, got ${rows}`);
  if (params.length !== layout.paramCount) throw new RangeError(`params has ${params.length} elements, the layout needs ${layout.paramCount}`);
  if (buffers.length !== layout.bufferCount) throw new RangeError(`buffers has ${buffers.length} elements, the layout needs ${layout.bufferCount}`);
  if (x.length !== rows * spec.layers[0]) throw new RangeError(`x has ${x.length} elements, expected rows × inputs = ${rows * spec.layers[0]}`);

  let a = x;
  const last = layout.layers.length - 1;
  layout.layers.forEach((layer, l) => {
    const { inputs, outputs } = layer;
    const w = read(params, layer.weight);
    const b = read(params, layer.bias);
    const z = new Float64Array(rows * outputs);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < outputs; o++) {
        let s = b[o];
        for (let i = 0; i < inputs; i++) s += a[r * inputs + i] * w[o * inputs + i];
        z[r * outputs + o] = s;
      }
    }
    a = z;
    if (l === last) return; // its head is applied by the caller
    if (layer.norm) {
      if (spec.norm === 'layer') layerNorm(z, rows, outputs, spec.normEps);
      else if (mode === 'train') batchNorm(z, rows, outputs, spec.normEps, batchStatistics(z, rows, outputs));
      else batchNorm(z, rows, outputs, spec.normEps, { mean: read(buffers, layer.norm.runningMean!), variance: read(buffers, layer.norm.runningVar!) });
      const gamma = read(params, layer.norm.weight);
      const beta = read(params, layer.norm.bias);
      for (let r = 0; r < rows; r++)
        for (let o = 0; o < outputs; o++) z[r * outputs + o] = z[r * outputs + o] * gamma[o] + beta[o];
    }
    for (let k = 0; k < z.length; k++) z[k] = activate(spec, z[k]);
  });
  return a;
}

/** Normalizes each row in place to zero mean and unit (biased) variance. */
function layerNorm(z: Float64Array, rows: number, cols: number, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const row = z.subarray(r * cols, (r + 1) * cols);
    let mean = 0;
    for (let c = 0; c < cols; c++) mean += row[c];
    mean /= cols;
    let variance = 0;
    for (let c = 0; c < cols; c++) variance += (row[c] - mean) ** 2;
    variance /= cols;
    const rstd = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < cols; c++) row[c] = (row[c] - mean) * rstd;
  }
}

/** Per-column mean and biased variance over the batch (the variance BatchNorm normalizes with). */
function batchStatistics(z: Float64Array, rows: number, cols: number): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(cols);
  const variance = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += z[r * cols + c];
  for (let c = 0; c < cols; c++) mean[c] /= rows;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) variance[c] += (z[r * cols + c] - mean[c]) ** 2;
  for (let c = 0; c < cols; c++) variance[c] /= rows;
  return { mean, variance };
}

function batchNorm(
  z: Float64Array, rows: number, cols: number, eps: number, stats: { mean: Float64Array; variance: Float64Array },
): void {
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) z[r * cols + c] = (z[r * cols + c] - stats.mean[c]) / Math.sqrt(stats.variance[c] + eps);
}

function activate(spec: ModelSpec, v: number): number {
  switch (spec.activation) {
    case 'relu':
      return v > 0 ? v : 0;
    case 'leaky_relu':
      return v > 0 ? v : spec.leakySlope * v;
    case 'tanh':
      return Math.tanh(v);
    case 'sigmoid':
      return sigmoid(spec.sigmoidAlpha * v);
    case 'linear':
      return v;
  }
}

function sigmoid(t: number): number {
  return 1 / (1 + Math.exp(-t));
}

function logSumExp(z: Float64Array): number {
  let max = -Infinity;
  for (let c = 0; c < z.length; c++) if (z[c] > max) max = z[c];
  let sum = 0;
  for (let c = 0; c < z.length; c++) sum += Math.exp(z[c] - max);
  return max + Math.log(sum);
}

function read(slab: Slab, t: TensorInfo): Float64Array {
  const out = new Float64Array(t.size);
  for (let k = 0; k < t.size; k++) out[k] = slab[t.offset + k];
  return out;
}
