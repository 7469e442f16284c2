// evaluate(): the model's loss, accuracy, confusion matrix and per-class precision/recall on a
// labelled data set, computed on worker threads for a large set.
import { Dataset } from '../data/dataset.js';
import { InvalidOptionError } from '../errors.js';
import type { Model } from '../nn/model.js';
import { type TaskMetrics, accumulateMetrics, metricSlots, summarizeMetrics } from '../train/metrics.js';
import { identity } from '../train/serial.js';
import { applySchema } from '../data/schema.js';
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
   * logits, by log-sum-exp) for softmax, binary cross-entropy summed over the labels for
   * multi-label, else the squared error summed over the outputs (of standardized targets, for a
   * regression model that standardizes them).
   */
  loss: number;
  /** Classification: fraction right; multi-label: mean per-label accuracy; regression: NaN. */
  accuracy: number;
  count: number;
  /** Classification: confusion[actual][predicted] counts, classes × classes (classes = the model's output width); else []. */
  confusion: number[][];
  /** Classification only; else []. */
  perClass: ClassMetrics[];
  /** The task's metrics: MSE, MAE, R² (regression, in the targets' units), per-label accuracy and F1 (multi-label). */
  metrics: TaskMetrics;
}

/** Inline for sets up to INLINE_MAX_ROWS samples, on worker threads above (see PredictOptions.inline). */
export async function evaluate(model: Model, data: Dataset, options: PredictOptions = {}): Promise<Evaluation> {
  if (!(data instanceof Dataset)) throw new InvalidOptionError('data', 'evaluate needs a Dataset with labels');
  if (!data.hasLabels) throw new InvalidOptionError('data', `${data.source} has no labels to evaluate against`);
  if (data.count === 0) throw new InvalidOptionError('data', `${data.source} is empty`);
  const { task } = model.spec;
  if (data.task !== task) throw new InvalidOptionError('data', `${data.source} holds ${data.task} targets but the model's task is ${task}`);
  if (task === 'classification') data.requireLabelsBelow(model.classes, `the model has ${model.classes} outputs`);
  if (task === 'classification' && data.classes > model.classes)
    throw new InvalidOptionError('data', `${data.source} has ${data.classes} classes but the model has only ${model.classes} outputs`);
  if (task !== 'classification' && data.classes !== model.outputs)
    throw new InvalidOptionError('data', `${data.source} has ${data.classes} target values per sample but the model has ${model.outputs} outputs`);
  const { source, rows } = rowSource(model, data);
  const { out, lossSum } = await infer(model, source, rows, true, options.inline);
  if (task === 'classification') {
    const result = classification(data.labels!, out.classes, model.classes);
    return { loss: lossSum / rows, ...result, metrics: summarizeMetrics(task, new Float64Array(0), rows, result.accuracy * rows, model.outputs, null) };
  }
  // The outputs and targets as the network sees them (standardized regression targets); the
  // summary scales MSE and MAE back.
  const seen = applySchema(model.schema, data);
  const targets = new Float32Array(rows * model.outputs);
  seen.gather(identity(rows), 0, rows, new Float32Array(rows * model.inputs), targets);
  const sums = new Float64Array(metricSlots(task, model.outputs));
  accumulateMetrics(task, out.probabilities, targets, rows, model.outputs, sums);
  const std = seen.targetNormalization?.invStd ? Array.from(seen.targetNormalization.invStd, (v) => 1 / v) : null;
  const metrics = summarizeMetrics(task, sums, rows, 0, model.outputs, std);
  return { loss: lossSum / rows, accuracy: metrics.accuracy ?? NaN, count: rows, confusion: [], perClass: [], metrics };
}

/** Accuracy, confusion matrix and per-class precision/recall of predicted against actual classes. */
export function classification(actual: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): Omit<Evaluation, 'loss' | 'metrics'> {
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
