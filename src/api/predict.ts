// predict(): class and output probabilities for a few rows (inline, fast enough to serve requests)
// or a large batch (on worker threads, so that the caller's event loop never blocks).
import { Dataset } from '../data/dataset.js';
import { applySchema, restoreTargets } from '../data/schema.js';
import { InvalidOptionError } from '../errors.js';
import type { Model } from '../nn/model.js';
import { type Outputs, type RowSource, inferInline, outputs } from './inference.js';
import { inferOffThread } from './inference-pool.js';

/**
 * Raw inputs, which the model normalizes as it was trained to (model.schema): a Dataset (its own
 * normalization is replaced by the model's), a Float32Array of rows × inputs (read without a copy
 * when it is a view of a SharedArrayBuffer), or an array of rows.
 */
export type PredictInput = Dataset | Float32Array | ArrayLike<number>[];

export interface Prediction {
  /** Arg-max class of each row (classification; for multi-label the most likely label). */
  classes: Int32Array;
  /**
   * rows × columns, row-major: softmax probabilities, sigmoid label probabilities (multi-label), the
   * head's outputs; for regression the predicted values, in the targets' units.
   */
  probabilities: Float32Array;
  /** The predicted class's name per row, when the model knows its class names (classification). */
  classNames: string[] | null;
  rows: number;
  /** The model's output width (classes, labels or target values). */
  columns: number;
}

export interface PredictOptions {
  /**
   * true: run on the caller's thread; false: on worker threads. Default: inline up to
   * INLINE_MAX_ROWS rows, on worker threads above.
   */
  inline?: boolean;
}

/** Batches up to this many rows run on the caller's thread by default. */
export const INLINE_MAX_ROWS = 256;

/** Predicts on the caller's thread, whatever the number of rows: for one sample or a few. */
export function predictSync(model: Model, inputs: PredictInput): Prediction {
  const { source, rows } = rowSource(model, inputs);
  const out = outputs(rows, model.classes);
  inferInline(model, source, rows, out, false);
  return prediction(model, out, rows);
}

/** Predicts inline for a few rows and on worker threads for a large batch (see PredictOptions.inline). */
export async function predict(model: Model, inputs: PredictInput, options: PredictOptions = {}): Promise<Prediction> {
  const { source, rows } = rowSource(model, inputs);
  const { out } = await infer(model, source, rows, false, options.inline);
  return prediction(model, out, rows);
}

/** Runs the rows inline or on the worker threads, as `inline` (default: by the row count) says. */
export async function infer(
  model: Model,
  source: RowSource,
  rows: number,
  withLoss: boolean,
  inline = rows <= INLINE_MAX_ROWS,
): Promise<{ out: Outputs; lossSum: number }> {
  if (inline) {
    const out = outputs(rows, model.classes);
    return { out, lossSum: inferInline(model, source, rows, out, withLoss) };
  }
  return inferOffThread(model, source, rows, withLoss);
}

function prediction(model: Model, out: Outputs, rows: number): Prediction {
  const columns = model.outputs;
  restoreTargets(model.schema, model.spec.task, out.probabilities, columns);
  const names = model.spec.task === 'classification' ? model.schema.classNames : null;
  const classNames = names ? Array.from(out.classes, (c) => names[c]) : null;
  return { classes: out.classes, probabilities: out.probabilities, classNames, rows, columns };
}

/**
 * Checks the inputs' width against the model's and says where the rows come from, under the model's
 * input normalization: a Dataset, or the caller's float rows as they are (no copy).
 */
export function rowSource(model: Model, inputs: PredictInput): { source: RowSource; rows: number } {
  const width = model.inputs;
  const { normalization } = model.schema;
  if (inputs instanceof Dataset) {
    if (inputs.width !== width)
      throw new InvalidOptionError('inputs', `${inputs.source} has ${inputs.width} features per sample but the model's input width is ${width}`);
    return { source: { kind: 'dataset', dataset: applySchema(model.schema, inputs) }, rows: inputs.count };
  }
  if (inputs instanceof Float32Array) {
    if (inputs.length % width !== 0)
      throw new InvalidOptionError('inputs', `inputs has ${inputs.length} values, not a whole number of rows of the model's input width ${width}`);
    return { source: { kind: 'rows', x: inputs, normalization }, rows: inputs.length / width };
  }
  if (!Array.isArray(inputs)) throw new InvalidOptionError('inputs', 'inputs must be a Dataset, a Float32Array of rows × inputs, or an array of rows');
  const x = new Float32Array(inputs.length * width);
  inputs.forEach((row, r) => {
    if (row?.length !== width) throw new InvalidOptionError('inputs', `inputs[${r}] has ${row?.length} values but the model's input width is ${width}`);
    x.set(row, r * width);
  });
  return { source: { kind: 'rows', x, normalization }, rows: inputs.length };
}
