// How stored features become network inputs: x = (value·scale − mean[j])·invStd[j], evaluated when
// a minibatch is gathered. A normalization is this small description, never a float copy of the
// data; the model keeps the one it was trained with and applies it to raw inputs (and the same form
// standardizes regression targets).
import { InvalidOptionError } from '../errors.js';
import type { Dataset } from './dataset.js';

export interface Normalization {
  scale: number;
  /** Per-feature mean, in scaled units; absent means 0. */
  mean?: Float32Array;
  /** Per-feature 1/std; absent means 1. */
  invStd?: Float32Array;
}

/** A normalization as JSON-able data, as model files and training checkpoints store it. */
export interface SavedNormalization {
  scale: number;
  mean?: number[];
  invStd?: number[];
}

export function savedNormalization(n: Normalization): SavedNormalization {
  return { scale: n.scale, ...(n.mean && { mean: Array.from(n.mean) }), ...(n.invStd && { invStd: Array.from(n.invStd) }) };
}

export const NORMALIZATION_KINDS = ['scale', 'standardize', 'none'] as const;
export type NormalizationKind = (typeof NORMALIZATION_KINDS)[number];

/** Pixels 0–255 to [0, 1]: the default for uint8 features. */
export const SCALE_TO_UNIT: Normalization = Object.freeze({ scale: 1 / 255 });
/** Raw pixel values. */
export const NO_NORMALIZATION: Normalization = Object.freeze({ scale: 1 });

/** uint8 features are scaled (their range is known); float features standardized. */
export function defaultNormalizationKind(features: Uint8Array | Float32Array): NormalizationKind {
  return features instanceof Float32Array ? 'standardize' : 'scale';
}

/**
 * The normalization of `kind` for data like `train`. 'scale' maps uint8 features by 1/255 and float
 * features from their range in `train` to [0, 1]; 'standardize' computes each feature's mean and
 * (population) standard deviation on `train` alone, so that validation and test data are
 * transformed with statistics they did not contribute to. A feature that is constant in `train`
 * (MNIST's border pixels) gets invStd = 1: it maps to 0 there instead of dividing by zero.
 */
export function fitNormalization(kind: NormalizationKind, train: Dataset): Normalization {
  // Checked before the switch, which then has no default: a kind it misses fails to compile.
  if (!NORMALIZATION_KINDS.includes(kind))
    throw new InvalidOptionError('normalization', `normalization must be one of ${NORMALIZATION_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  switch (kind) {
    case 'scale':
      return train.images instanceof Float32Array ? rangeScaling(train.images, train.count, train.width, train.source) : SCALE_TO_UNIT;
    case 'none':
      return NO_NORMALIZATION;
    case 'standardize':
      return standardization(train);
  }
}

/** Fits on splits.train and applies the result to every split given. */
export function normalizeSplits<S extends { train: Dataset } & Record<string, Dataset | null | undefined>>(kind: NormalizationKind, splits: S): S {
  const normalization = fitNormalization(kind, splits.train);
  const out: Record<string, Dataset | null | undefined> = {};
  for (const [name, dataset] of Object.entries(splits)) out[name] = dataset ? dataset.withNormalization(normalization) : dataset;
  return out as S;
}

/**
 * Per-column mean and 1/std of float rows (count × width), in double over two passes (a one-pass
 * Σx² loses the variance of values far from 0 to cancellation). A constant column gets invStd 1.
 */
export function standardizeColumns(values: Float32Array, n: number, w: number, source: string): Normalization {
  if (n === 0) throw new InvalidOptionError('normalization', `${source}: cannot standardize with statistics of an empty data set`);
  const sum = new Float64Array(w);
  for (let r = 0; r < n; r++) for (let j = 0; j < w; j++) sum[j] += values[r * w + j];
  const mean = new Float32Array(w);
  for (let j = 0; j < w; j++) mean[j] = sum[j] / n;
  const squares = new Float64Array(w);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < w; j++) {
      const d = values[r * w + j] - mean[j];
      squares[j] += d * d;
    }
  const invStd = new Float32Array(w);
  for (let j = 0; j < w; j++) {
    const std = Math.sqrt(squares[j] / n);
    invStd[j] = std > 0 && Number.isFinite(1 / std) ? 1 / std : 1;
  }
  return { scale: 1, mean, invStd };
}

/** Float features from their [min, max] in the training rows to [0, 1]; a constant feature to 0. */
function rangeScaling(values: Float32Array, n: number, w: number, source: string): Normalization {
  if (n === 0) throw new InvalidOptionError('normalization', `${source}: cannot scale by the range of an empty data set`);
  const min = Float32Array.from(values.subarray(0, w));
  const max = Float32Array.from(values.subarray(0, w));
  for (let r = 1; r < n; r++)
    for (let j = 0; j < w; j++) {
      const v = values[r * w + j];
      if (v < min[j]) min[j] = v;
      if (v > max[j]) max[j] = v;
    }
  const invStd = new Float32Array(w);
  for (let j = 0; j < w; j++) {
    const range = max[j] - min[j];
    invStd[j] = range > 0 && Number.isFinite(1 / range) ? 1 / range : 1;
  }
  return { scale: 1, mean: min, invStd };
}

function standardization(train: Dataset): Normalization {
  const { count: n, width: w, images } = train;
  if (images instanceof Float32Array) return standardizeColumns(images, n, w, train.source);
  if (n === 0) throw new InvalidOptionError('normalization', `${train.source}: cannot standardize with statistics of an empty data set`);
  // Integer sums are exact in double while n·Σx² < 2^53 (n < 1.3e8 samples of bytes), so a constant
  // feature gives exactly zero variance instead of a rounding residue that would blow up 1/std.
  const sum = new Float64Array(w);
  const sumSquares = new Float64Array(w);
  for (let r = 0; r < n; r++) {
    const row = r * w;
    for (let j = 0; j < w; j++) {
      const v = images[row + j];
      sum[j] += v;
      sumSquares[j] += v * v;
    }
  }
  const scale = SCALE_TO_UNIT.scale;
  const mean = new Float32Array(w);
  const invStd = new Float32Array(w);
  for (let j = 0; j < w; j++) {
    const varianceTimesN2 = n * sumSquares[j] - sum[j] * sum[j];
    mean[j] = (sum[j] / n) * scale;
    invStd[j] = varianceTimesN2 > 0 ? n / (Math.sqrt(varianceTimesN2) * scale) : 1;
  }
  return { scale, mean, invStd };
}
