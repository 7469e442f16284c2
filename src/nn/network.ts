// The whole network bound to its slabs and to activation buffers sized once for `capacity` rows
// (llm.c style: memory laid out up front, no allocation per step). forward() and backward() are
// the algorithm, layer by layer; callers fill `input` (and `labels`) first.
import { native } from '../native.js';
import { type ActivationFn, activationFn } from './activations.js';
import { type DenseParams, type PackedWeight, type Precision, denseBiasGradient, denseForward, denseInputGradient, denseWeightGradient } from './dense.js';
import { view } from './layout.js';
import { hasFloatTargets, headBackward, headForward } from './loss.js';
import type { Model } from './model.js';
import { type NormParams, type NormSaved, normBackward, normForward } from './norm.js';
import type { ModelSpec } from './spec.js';

export type Mode = 'train' | 'eval';

export interface NetworkOptions {
  /** BatchNorm running statistics to read and, in training, update (defaults to the model's). */
  buffers?: Float32Array;
  /** Per layer, its weights packed for the products (kept current by the caller), in their precision. */
  packed?: PackedWeight[] | null;
  /** The matrix products' precision (default fp32; see dense.ts). */
  precision?: Precision;
  /**
   * Per layer, buffers of capacity rows that others read: its input x (the network's input, then
   * the hidden layers' activations) and its dz. The weight gradients dW are then left to those
   * readers: backward writes the bias and norm gradients only.
   */
  shared?: LayerInputs;
}

/** Per layer, its input x (rows × inputs) and its dz (rows × outputs). */
export interface LayerInputs {
  x: Float32Array[];
  dz: Float32Array[];
}

/** Everything one layer keeps between its forward and backward pass. */
export interface LayerState {
  dense: DenseParams;
  norm?: NormParams & { saved: NormSaved; out: Float32Array; dWeight: Float32Array; dBias: Float32Array; dOut: Float32Array };
  /** Pre-activation x·Wᵀ + b. */
  z: Float32Array;
  /** Activation output (for the last layer: the head's output, e.g. probabilities). */
  a: Float32Array;
  /** Gradient with respect to a (for the last layer: scratch of the head's backward). */
  da: Float32Array;
  /** Gradient with respect to z. */
  dz: Float32Array;
  dWeight: Float32Array;
  dBias: Float32Array;
}

export class Network {
  readonly spec: ModelSpec;
  readonly capacity: number;
  readonly input: Float32Array;
  /** Class labels (classification), one per row. */
  readonly labels: Int32Array;
  /** Float targets (regression, multi-label), rows × outputs; empty for classification. */
  readonly targets: Float32Array;
  readonly layers: LayerState[];
  private readonly activation: ActivationFn;
  /** Whether backward leaves dW to the readers of options.shared. */
  private readonly weightsLeft: boolean;

  /** @param grads gradient slab laid out like model.params (may be a worker's slot); null for inference. */
  constructor(model: Model, capacity: number, grads: Float32Array | null, options: NetworkOptions = {}) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.spec = model.spec;
    this.capacity = capacity;
    this.activation = activationFn(model.spec.activation, model.spec);
    const { buffers = model.buffers, packed = null, precision = 'fp32', shared } = options;
    this.weightsLeft = shared !== undefined;
    this.input = given(shared?.x[0], capacity * model.inputs, 'shared.x[0]');
    const last = model.layout.layers.length - 1;
    this.labels = new Int32Array(capacity);
    this.targets = new Float32Array(hasFloatTargets(model.spec.task) ? capacity * model.layout.layers[last].outputs : 0);
    const g = grads ?? new Float32Array(model.layout.paramCount);
    this.layers = model.layout.layers.map((l, i) => {
      const rowsByOut = () => new Float32Array(capacity * l.outputs);
      const dense: DenseParams = { inputs: l.inputs, outputs: l.outputs, weight: view(model.params, l.weight), bias: view(model.params, l.bias), precision };
      if (packed) dense.packed = packed[i];
      const state: LayerState = {
        dense,
        z: rowsByOut(),
        a: i < last ? given(shared?.x[i + 1], capacity * l.outputs, `shared.x[${i + 1}]`) : rowsByOut(),
        da: grads ? rowsByOut() : new Float32Array(0),
        dz: grads ? given(shared?.dz[i], capacity * l.outputs, `shared.dz[${i}]`) : new Float32Array(0),
        dWeight: view(g, l.weight),
        dBias: view(g, l.bias),
      };
      if (l.norm) {
        const statLength = Math.max(capacity, l.outputs);
        state.norm = {
          kind: model.spec.norm as NormParams['kind'],
          gamma: view(model.params, l.norm.weight),
          beta: view(model.params, l.norm.bias),
          runningMean: l.norm.runningMean && view(buffers, l.norm.runningMean),
          runningVar: l.norm.runningVar && view(buffers, l.norm.runningVar),
          eps: model.spec.normEps,
          momentum: model.spec.normMomentum,
          saved: { mean: new Float32Array(statLength), rstd: new Float32Array(statLength) },
          out: rowsByOut(),
          dOut: grads ? rowsByOut() : new Float32Array(0),
          dWeight: view(g, l.norm.weight),
          dBias: view(g, l.norm.bias),
        };
      }
      return state;
    });
  }

  /** What the loss compares the outputs with: `labels` or `targets`, by the task. */
  get y(): Int32Array | Float32Array {
    return hasFloatTargets(this.spec.task) ? this.targets : this.labels;
  }

  get output(): Float32Array {
    return this.layers[this.layers.length - 1].a;
  }

  /** Runs the network on the first `rows` inputs; with labels, returns the summed loss over them. */
  forward(rows: number, mode: Mode, withLoss = true): number {
    this.checkRows(rows);
    const last = this.layers.length - 1;
    let x = this.input;
    for (let i = 0; i < last; i++) {
      const L = this.layers[i];
      const cols = L.dense.outputs;
      denseForward(L.dense, x, rows, L.z);
      let pre = L.z;
      if (L.norm) {
        normForward(L.norm, L.z, L.norm.out, L.norm.saved, rows, cols, mode === 'train');
        pre = L.norm.out;
      }
      native.activationForward(this.activation.code, this.activation.alpha, pre, L.a, rows * cols);
      x = L.a;
    }
    const head = this.layers[last];
    denseForward(head.dense, x, rows, head.z);
    return headForward(this.spec, head.z, head.a, withLoss ? this.y : null, rows, head.dense.outputs);
  }

  /**
   * Writes the gradient of scale × (summed loss of the last forward) into the gradient slab, or adds
   * it there when accumulating over the chunks of a larger batch (networks without norm layers only:
   * a norm's statistics belong to the whole batch). `layerDone(i)`, when given, is called as soon as
   * layer i's gradient (weights, bias, norm) is complete, from the last layer down to the first.
   */
  backward(rows: number, scale: number, accumulate = false, layerDone?: (layer: number) => void): void {
    this.checkRows(rows);
    if (accumulate && this.spec.norm !== 'none') throw new Error('gradients of a network with norm layers cannot be accumulated over chunks');
    if (accumulate && this.weightsLeft) throw new Error('gradients whose weight part is left to shared readers cannot be accumulated over chunks');
    const last = this.layers.length - 1;
    const head = this.layers[last];
    headBackward(this.spec, head.z, head.a, this.y, head.da, head.dz, rows, head.dense.outputs, scale);
    for (let i = last; i >= 0; i--) {
      const L = this.layers[i];
      const x = i > 0 ? this.layers[i - 1].a : this.input;
      const below = i > 0 ? this.layers[i - 1] : null;
      if (this.weightsLeft) denseBiasGradient(L.dense, L.dz, rows, L.dBias, accumulate);
      else denseWeightGradient(L.dense, x, L.dz, rows, L.dWeight, L.dBias, accumulate);
      layerDone?.(i);
      if (!below) continue;
      denseInputGradient(L.dense, L.dz, rows, below.da);
      this.activationAndNormBackward(below, rows);
    }
  }

  /**
   * After forward: of the first `rows` samples, how many have the arg-max output equal to their
   * label (classification), or the fraction of their labels on the right side of 0.5, summed
   * (multi-label); 0 for regression, which has no accuracy.
   */
  correct(rows: number): number {
    const cols = this.layers[this.layers.length - 1].dense.outputs;
    if (this.spec.task === 'classification') return native.countCorrect(this.output, this.labels, rows, cols);
    if (this.spec.task === 'regression') return 0;
    const out = this.output;
    const t = this.targets;
    let right = 0;
    for (let i = 0; i < rows * cols; i++) right += out[i] >= 0.5 === t[i] >= 0.5 ? 1 : 0;
    return right / cols;
  }

  /** From dL/da of a hidden layer to dL/dz, through its activation and norm. */
  private activationAndNormBackward(L: LayerState, rows: number): void {
    const n = rows * L.dense.outputs;
    const f = this.activation;
    if (!L.norm) {
      native.activationBackward(f.code, f.alpha, L.z, L.a, L.da, L.dz, n);
      return;
    }
    native.activationBackward(f.code, f.alpha, L.norm.out, L.a, L.da, L.norm.dOut, n);
    normBackward(L.norm, L.z, L.norm.saved, L.norm.dOut, L.dz, L.norm.dWeight, L.norm.dBias, rows, L.dense.outputs);
  }

  private checkRows(rows: number): void {
    if (!Number.isInteger(rows) || rows < 1 || rows > this.capacity)
      throw new RangeError(`rows must be an integer from 1 to the network's capacity ${this.capacity}, got ${rows}`);
  }
}

/** The caller's buffer, checked to hold `length` floats, or a new one when there is none. */
function given(buffer: Float32Array | undefined, length: number, name: string): Float32Array {
  if (!buffer) return new Float32Array(length);
  if (buffer.length < length) throw new RangeError(`${name} holds ${buffer.length} floats, fewer than the ${length} the network needs`);
  return buffer.subarray(0, length);
}
