// Choosing which samples train and which validate: a held-out fraction picked by a seeded shuffle,
// per class (stratified), or from the end; and a limit to the first N samples for quick runs.
import { InvalidOptionError } from '../errors.js';
import { Random } from '../util/random.js';
import type { Dataset } from './dataset.js';

export const SPLIT_ORDERS = ['random', 'stratified', 'sequential'] as const;
export type SplitOrder = (typeof SPLIT_ORDERS)[number];

export interface SplitOptions {
  /** Fraction held out for validation, in [0, 1): 0.25 of 42000 samples gives 31500/10500. */
  valSplit: number;
  /**
   * 'random' (default): a seeded shuffle decides; 'stratified': each class gives the same fraction
   * (within one sample), seeded too; 'sequential': the last samples validate, as Keras does.
   */
  order?: SplitOrder;
  /** Seed of the shuffle; the same seed gives the same split. Default 0. */
  seed?: number;
  /** Use only the first `limit` samples. */
  limit?: number;
}

export interface Split {
  train: Dataset;
  /** Null when valSplit is 0. */
  validation: Dataset | null;
}

/** The first `limit` samples (all of them when the data set is smaller). */
export function takeFirst(dataset: Dataset, limit: number): Dataset {
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidOptionError('limit', `limit must be a positive integer, got ${limit}`);
  if (limit >= dataset.count) return dataset;
  return dataset.subset(range(0, limit), `${dataset.source} (first ${limit})`);
}

/** Both parts keep the original sample order; only membership is drawn. */
export function splitDataset(dataset: Dataset, options: SplitOptions): Split {
  const { valSplit, order = 'random', seed = 0 } = options;
  if (!(valSplit >= 0 && valSplit < 1)) throw new InvalidOptionError('valSplit', `valSplit must be in [0, 1), got ${valSplit}`);
  if (!SPLIT_ORDERS.includes(order)) throw new InvalidOptionError('order', `order must be one of ${SPLIT_ORDERS.join(', ')}, got ${JSON.stringify(order)}`);
  const data = options.limit === undefined ? dataset : takeFirst(dataset, options.limit);
  if (valSplit === 0) return { train: data, validation: null };
  const n = data.count;
  const validationCount = Math.round(n * valSplit);
  if (validationCount < 1 || validationCount >= n)
    throw new InvalidOptionError(
      'valSplit',
      `valSplit ${valSplit} of ${n} samples leaves ${validationCount} for validation and ${n - validationCount} for training; both need at least 1`,
    );

  const isValidation = new Uint8Array(n);
  if (order === 'sequential') isValidation.fill(1, n - validationCount);
  else if (order === 'random') for (const i of new Random(seed).shuffle(range(0, n)).subarray(0, validationCount)) isValidation[i] = 1;
  else markStratified(data, validationCount, new Random(seed), isValidation);

  const trainIndices = new Int32Array(n - validationCount);
  const validationIndices = new Int32Array(validationCount);
  for (let i = 0, t = 0, v = 0; i < n; i++) {
    if (isValidation[i]) validationIndices[v++] = i;
    else trainIndices[t++] = i;
  }
  const how = order === 'sequential' ? order : `${order}, seed ${seed}`;
  const part = (name: string, indices: Int32Array) => `${data.source} (${name}: ${indices.length} of ${n}, ${how})`;
  return {
    train: data.subset(trainIndices, part('train split', trainIndices)),
    validation: data.subset(validationIndices, part('validation split', validationIndices)),
  };
}

/**
 * Each class c of size n_c gives floor or ceil of n_c·total/n samples, chosen by a per-class shuffle;
 * the remainders go to the classes with the largest fractional parts so the total is exact.
 */
function markStratified(data: Dataset, total: number, random: Random, isValidation: Uint8Array): void {
  if (!data.labels) throw new InvalidOptionError('order', `${data.source} has no labels, so it cannot be split by class`);
  const labels = data.labels;
  const counts = data.classCounts();
  const members = counts.map((c) => new Int32Array(c));
  const filled = new Array<number>(counts.length).fill(0);
  for (let i = 0; i < labels.length; i++) members[labels[i]][filled[labels[i]]++] = i;

  const exact = counts.map((c) => (c * total) / data.count);
  const quota = exact.map(Math.floor);
  let remaining = total - quota.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, c) => ({ c, r: e - quota[c] })).sort((a, b) => b.r - a.r || a.c - b.c);
  for (const { c } of byRemainder) {
    if (remaining === 0) break;
    quota[c]++;
    remaining--;
  }
  members.forEach((indices, c) => {
    for (const i of random.shuffle(indices).subarray(0, quota[c])) isValidation[i] = 1;
  });
}

function range(begin: number, end: number): Int32Array {
  const a = new Int32Array(end - begin);
  for (let i = 0; i < a.length; i++) a[i] = begin + i;
  return a;
}
