// evaluate(): the model's loss, accuracy, confusion matrix and per-class precision/recall on a
// labelled data set, computed on worker threads for a large set.
import { Dataset } from '../data/dataset.js';
import type { Model } from '../nn/model.js';
import { type PredictOptions, infer, rowSource } from './predict.js';

export interface ClassMetrics {
  /** Of the samples predicted as this class, the fraction that are (NaN when none was predicted). */
  precision: number;
  /** Of the samples of this class, the fraction predicted as it (NaN when the set has none). */
  recall: number;
  /** Samples of this class in the set. */
  support: number;
}

export interface Evaluation {
  /**
   * Mean loss per sample, with the loss the model's head trains with: cross-entropy (from the
   * logits, by log-sum-exp) for softmax, else the squared error summed over the outputs.
   */
  loss: number;
  accuracy: number;
  count: number;
  /** confusion[actual][predicted] counts, classes × classes (classes = the model's output width). */
  confusion: number[][];
  perClass: ClassMetrics[];
}

/** Inline for sets up to INLINE_MAX_ROWS samples, on worker threads above (see PredictOptions.inline). */
export async function evaluate(model: Model, data: Dataset, options: PredictOptions = {}): Promise<Evaluation> {
  if (!(data instanceof Dataset)) throw new TypeError('evaluate needs a Dataset with labels');
  if (!data.labels) throw new TypeError(`${data.source} has no labels to evaluate against`);
  if (data.count === 0) throw new RangeError(`${data.source} is empty`);
  data.requireLabelsBelow(model.classes, `the model has ${model.classes} outputs`);
  if (data.classes > model.classes)
    throw new RangeError(`${data.source} has ${data.classes} classes but the model has only ${model.classes} outputs`);
  const { source, rows } = rowSource(model, data);
  const { out, lossSum } = await infer(model, source, rows, true, options.inline);
  return { loss: lossSum / rows, ...classification(data.labels, out.classes, model.classes) };
}

/** Accuracy, confusion matrix and per-class precision/recall of predicted against actual classes. */
export function classification(
  actual: ArrayLike<number>, predicted: ArrayLike<number>, classes: number,
): Omit<Evaluation, 'loss'> {
  const count = actual.length;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < count; i++) confusion[actual[i]][predicted[i]]++;
  let correct = 0;
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < classes; c++) {
    let predictedAsC = 0;
    let support = 0;
    for (let k = 0; k < classes; k++) {
      predictedAsC += confusion[k][c];
      support += confusion[c][k];
    }
    const hits = confusion[c][c];
    correct += hits;
    perClass.push({ precision: predictedAsC ? hits / predictedAsC : NaN, recall: support ? hits / support : NaN, support });
  }
  return { accuracy: correct / count, count, confusion, perClass };
}
