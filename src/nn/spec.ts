// What a network is, as plain data: enough to rebuild it from a saved file or an ONNX graph.
import { InvalidOptionError } from '../errors.js';
import { ACTIVATION_NAMES, type ActivationName } from './activations.js';
import { OUTPUTS, type Output, headsFor } from './loss.js';

export const NORMS = ['none', 'layer', 'batch'] as const;
/**
 * What the outputs mean and what they are trained against: one class per sample (class indices),
 * float values (regression, rows × outputs) or independent 0/1 labels (multi-label, rows × outputs).
 */
export const TASKS = ['classification', 'regression', 'multilabel'] as const;

export type Norm = (typeof NORMS)[number];
export type Task = (typeof TASKS)[number];

export interface ModelSpec {
  /** Widths from input to output, e.g. [784, 128, 10]. */
  layers: number[];
  /** Activation of every hidden layer. */
  activation: ActivationName;
  /** Output head: an entry of OUTPUT_HEADS (nn/loss.ts), which says the tasks it serves and their losses. */
  output: Output;
  /** Defaults to classification (what a model file written without a task holds). */
  task: Task;
  /** Normalization of every hidden layer, between its dense product and its activation. */
  norm: Norm;
  /** Slope of leaky_relu for negative inputs. */
  leakySlope: number;
  /** Sigmoid input scale: sigmoid(alpha·x), for a sigmoid hidden activation or output. */
  sigmoidAlpha: number;
  /** Epsilon of LayerNorm/BatchNorm. */
  normEps: number;
  /** BatchNorm running-statistics momentum. */
  normMomentum: number;
}

export const DEFAULT_SPEC: Omit<ModelSpec, 'layers'> = {
  activation: 'relu',
  output: 'softmax',
  task: 'classification',
  norm: 'none',
  leakySlope: 0.01,
  sigmoidAlpha: 1,
  normEps: 1e-5,
  normMomentum: 0.1,
};

/** Fills defaults and checks every field, with messages that name it. */
export function resolveSpec(spec: Partial<ModelSpec> & { layers: number[] }): ModelSpec {
  const full: ModelSpec = { ...DEFAULT_SPEC, ...spec, layers: [...spec.layers] };
  if (!Array.isArray(spec.layers) || full.layers.length < 2)
    throw new InvalidOptionError('layers', `layers must list at least an input and an output width, got ${JSON.stringify(spec.layers)}`);
  full.layers.forEach((w, i) => {
    if (!Number.isInteger(w) || w < 1 || w > 1 << 20) throw new InvalidOptionError('layers', `layers[${i}] must be an integer from 1 to 1048576, got ${w}`);
  });
  oneOf('activation', full.activation, ACTIVATION_NAMES);
  oneOf('output', full.output, OUTPUTS);
  oneOf('norm', full.norm, NORMS);
  oneOf('task', full.task, TASKS);
  const heads = headsFor(full.task);
  if (!heads.includes(full.output))
    throw new InvalidOptionError('output', `task ${full.task} needs the ${heads.join(' or ')} output, got output ${full.output}`);
  positive('sigmoidAlpha', full.sigmoidAlpha);
  positive('normEps', full.normEps);
  if (!(full.leakySlope >= 0 && full.leakySlope < 1)) throw new InvalidOptionError('leakySlope', `leakySlope must be in [0, 1), got ${full.leakySlope}`);
  if (!(full.normMomentum > 0 && full.normMomentum <= 1))
    throw new InvalidOptionError('normMomentum', `normMomentum must be in (0, 1], got ${full.normMomentum}`);
  return full;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): void {
  if (!allowed.includes(value as T)) throw new InvalidOptionError(name, `${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
}

function positive(name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) throw new InvalidOptionError(name, `${name} must be a positive number, got ${value}`);
}
