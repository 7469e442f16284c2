// How uint8 pixels become network inputs: x = (pixel·scale − mean[j])·invStd[j], evaluated when a
// minibatch is gathered. A normalization is this small description, never a float copy of the data.
import type { Dataset } from './dataset.js';

export interface Normalization {
  scale: number;
  /** Per-feature mean, in scaled units; absent means 0. */
  mean?: Float32Array;
  /** Per-feature 1/std; absent means 1. */
  invStd?: Float32Array;
}

export const NORMALIZATION_KINDS = ['scale', 'standardize', 'none'] as const;
export type NormalizationKind = (typeof NORMALIZATION_KINDS)[number];

/** Pixels 0–255 to [0, 1]: the default. */
export const SCALE_TO_UNIT: Normalization = Object.freeze({ scale: 1 / 255 });
/** Raw pixel values. */
export const NO_NORMALIZATION: Normalization = Object.freeze({ scale: 1 });

/**
 * The normalization of `kind` for data like `train`. 'standardize' computes each feature's mean and
 * (population) standard deviation on `train` alone, so that validation and test data are
 * transformed with statistics they did not contribute to. A feature that is constant in `train`
 * (MNIST's border pixels) gets invStd = 1: it maps to 0 there instead of dividing by zero.
 */
export function fitNormalization(kind: NormalizationKind, train: Dataset): Normalization {
  switch (kind) {
    case 'scale':
      return SCALE_TO_UNIT;
    case 'none':
      return NO_NORMALIZATION;
    case 'standardize':
      return standardization(train);
    default:
      throw new RangeError(`normalization must be one of ${NORMALIZATION_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
}

/** Fits on splits.train and applies the result to every split given. */
export function normalizeSplits<S extends { train: Dataset } & Record<string, Dataset | null | undefined>>(
  kind: NormalizationKind,
  splits: S,
): S {
  const normalization = fitNormalization(kind, splits.train);
  const out: Record<string, Dataset | null | undefined> = {};
  for (const [name, dataset] of Object.entries(splits)) out[name] = dataset ? dataset.withNormalization(normalization) : dataset;
  return out as S;
}

function standardization(train: Dataset): Normalization {
  const { count: n, width: w, images } = train;
  if (n === 0) throw new RangeError(`${train.source}: cannot standardize with statistics of an empty data set`);
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
