// Training health, layer by layer: one forward and backward pass over a fixed batch of training
// samples, then the numbers that tell a network that learns from one that cannot — the spread of
// pre-activations and activations, dead ReLUs, saturated sigmoids, gradient norms and the size of
// an update relative to the weights. The batch is drawn once, so that epochs compare like with like.
import { native } from '../native.js';
import { ACTIVATIONS, type ActivationDef, type ActivationName } from '../nn/activations.js';
import { OUTPUT_HEADS } from '../nn/loss.js';
import type { LayerState } from '../nn/network.js';
import { Network } from '../nn/network.js';
import type { Model } from '../nn/model.js';
import type { TrainingData } from '../train/data.js';
import { Random } from '../util/random.js';

const DEFAULT_PROBE_SAMPLES = 512;
const HISTOGRAM_BINS = 40;

export interface Histogram {
  /** Equal-width bins from min to max. */
  min: number;
  max: number;
  counts: number[];
}

export interface LayerStats {
  /** 1-based, input side first; the last layer is the output head. */
  layer: number;
  /** The hidden activation, or the output head for the last layer. */
  activation: string;
  inputs: number;
  outputs: number;
  /** Dense output x·Wᵀ + b, over the batch and the units. */
  preActivation: { mean: number; std: number; maxAbs: number };
  activationStats: { mean: number; std: number };
  /** Activations whose units can die (ReLU): fraction of units that are zero for every sample of the batch. */
  deadFraction: number | null;
  /** Activations with flat tails (sigmoid, tanh): fraction of outputs in them (within 0.01 of a limit). */
  saturatedFraction: number | null;
  /** The same activations: mean derivative f'(z), the factor every gradient through the layer is multiplied by. */
  meanSlope: number | null;
  weightStd: number;
  /** The weights' std when the probe was made (before training, as the CLI makes it): what the init gave. */
  initialWeightStd: number;
  weightNorm: number;
  /** ‖dL/dW‖ of the mean loss over the batch. */
  gradNorm: number;
  /** lr·‖dL/dW‖ / ‖W‖: the relative size of a plain gradient step (healthy ≈ 1e-3). */
  updateRatio: number;
  activationHistogram: Histogram;
  gradientHistogram: Histogram;
}

export interface NetworkStats {
  samples: number;
  /** Mean loss over the batch. */
  loss: number;
  layers: LayerStats[];
}

/**
 * A fixed batch of training samples and the buffers to examine the network on it, laid out once.
 * BatchNorm runs in training mode on a copy of the running statistics: measuring leaves the model as it was.
 */
export class Probe {
  readonly samples: number;
  private readonly net: Network;
  private readonly initialWeightStd: number[];

  constructor(
    private readonly model: Model,
    data: TrainingData,
    samples = DEFAULT_PROBE_SAMPLES,
    seed = 1,
  ) {
    this.samples = Math.min(samples, data.count);
    const order = new Int32Array(data.count);
    for (let i = 0; i < data.count; i++) order[i] = i;
    new Random(seed).shuffle(order);
    this.net = new Network(model, this.samples, new Float32Array(model.layout.paramCount), { buffers: model.buffers.slice() });
    data.gather(order, 0, this.samples, this.net.input, this.net.y);
    this.initialWeightStd = this.net.layers.map((L) => moments(L.dense.weight, L.dense.weight.length).std);
  }

  /** The network's state on the batch now; lr is the learning rate of the steps being taken. */
  measure(lr: number): NetworkStats {
    const { net, samples: rows, model } = this;
    const lossSum = net.forward(rows, 'train');
    net.backward(rows, 1 / rows);
    const last = net.layers.length - 1;
    const layers = net.layers.map((L, i): LayerStats => {
      const activation = i < last ? model.spec.activation : model.spec.output;
      const f = i < last ? model.spec.activation : OUTPUT_HEADS[model.spec.output].activation;
      const def: ActivationDef | null = f === null ? null : ACTIVATIONS[f];
      const n = rows * L.dense.outputs;
      const z = moments(L.z, n);
      const a = moments(L.a, n);
      const weightNorm = Math.sqrt(native.sumSquares(L.dense.weight, L.dense.weight.length));
      const gradNorm = Math.sqrt(native.sumSquares(L.dWeight, L.dWeight.length));
      return {
        layer: i + 1,
        activation,
        inputs: L.dense.inputs,
        outputs: L.dense.outputs,
        preActivation: { mean: z.mean, std: z.std, maxAbs: native.maxAbs(L.z, n) },
        activationStats: a,
        deadFraction: def?.canDie ? deadFraction(L, rows) : null,
        ...saturation(f, L, n, model),
        weightStd: moments(L.dense.weight, L.dense.weight.length).std,
        initialWeightStd: this.initialWeightStd[i],
        weightNorm,
        gradNorm,
        updateRatio: weightNorm > 0 ? (lr * gradNorm) / weightNorm : Infinity,
        activationHistogram: histogram(L.a, n),
        gradientHistogram: histogram(L.dWeight, L.dWeight.length),
      };
    });
    return { samples: rows, loss: lossSum / rows, layers };
  }
}

/** Mean and population standard deviation of x[0 .. n), accumulated in double. */
function moments(x: Float32Array, n: number): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[i];
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (x[i] - mean) * (x[i] - mean);
  return { mean, std: Math.sqrt(squares / n) };
}

/** Units whose activation is zero for every row. */
function deadFraction(L: LayerState, rows: number): number {
  const units = L.dense.outputs;
  let dead = 0;
  for (let u = 0; u < units; u++) {
    let alive = false;
    for (let r = 0; r < rows && !alive; r++) alive = L.a[r * units + u] > 0;
    if (!alive) dead++;
  }
  return dead / units;
}

/** Saturated fraction and mean slope of an activation with flat tails (null for the others). */
function saturation(name: ActivationName | null, L: LayerState, n: number, model: Model): Pick<LayerStats, 'saturatedFraction' | 'meanSlope'> {
  const def: ActivationDef | null = name === null ? null : ACTIVATIONS[name];
  if (!def?.saturated) return { saturatedFraction: null, meanSlope: null };
  const alpha = def.parameter === null ? 0 : model.spec[def.parameter];
  const z = L.norm ? L.norm.out : L.z; // what the activation was applied to
  let saturated = 0;
  let slope = 0;
  for (let i = 0; i < n; i++) {
    if (def.saturated(L.a[i])) saturated++;
    slope += def.derivative(z[i], L.a[i], alpha);
  }
  return { saturatedFraction: saturated / n, meanSlope: slope / n };
}

/** Equal-width histogram of the finite values of x[0 .. n). */
export function histogram(x: Float32Array, n: number, bins = HISTOGRAM_BINS): Histogram {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const counts = new Array<number>(bins).fill(0);
  if (!(min <= max)) return { min: 0, max: 0, counts };
  const width = (max - min) / bins;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (!Number.isFinite(v)) continue;
    counts[width > 0 ? Math.min(bins - 1, Math.floor((v - min) / width)) : 0]++;
  }
  return { min, max, counts };
}
