// What a model knows of the data it was trained on, so that everything downstream (predict,
// evaluate, the CLI, the ONNX export) takes raw inputs and gives answers in the data's own terms:
// the input normalization, the standardization of regression targets (undone on the outputs), the
// class names and the names of the target columns.
import type { Task } from '../nn/spec.js';
import type { Dataset } from './dataset.js';
import { InvalidOptionError } from '../errors.js';
import {
  NORMALIZATION_KINDS,
  type Normalization,
  type NormalizationKind,
  SCALE_TO_UNIT,
  defaultNormalizationKind,
  fitNormalization,
  standardizeColumns,
} from './normalize.js';

export const TARGET_NORMALIZATIONS = ['standardize', 'none'] as const;
export type TargetNormalizationKind = (typeof TARGET_NORMALIZATIONS)[number];

export interface DataSchema {
  /** Raw input x becomes (x·scale − mean[j])·invStd[j] before the first layer. */
  normalization: Normalization;
  normalizationKind: NormalizationKind;
  /** Regression: the network learns (y − mean[j])·invStd[j]; its outputs are mapped back. Null: raw targets. */
  targetNormalization: Normalization | null;
  /** Names of the classes (or of the labels, multi-label), in output order. */
  classNames: string[] | null;
  /** The target columns of the training file, which a file given for prediction may still hold. */
  targetNames: string[] | null;
}

/** What a model knows without data: pixels 0–255 scaled to [0, 1], nothing else. */
export function defaultSchema(): DataSchema {
  return { normalization: SCALE_TO_UNIT, normalizationKind: 'scale', targetNormalization: null, classNames: null, targetNames: null };
}

export interface SchemaOptions {
  /** Input normalization fitted on the training data; default: scale for uint8 features, standardize for float. */
  normalize?: NormalizationKind;
  /** Regression targets: standardize (default; fitted on the training data) or none. */
  targetNormalize?: TargetNormalizationKind;
}

/** Fits the schema on the training samples alone (validation and test data must not contribute). */
export function fitSchema(train: Dataset, options: SchemaOptions = {}): DataSchema {
  const kind = options.normalize ?? defaultNormalizationKind(train.images);
  if (!NORMALIZATION_KINDS.includes(kind))
    throw new InvalidOptionError('normalize', `normalize must be one of ${NORMALIZATION_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  const targetKind = options.targetNormalize ?? 'standardize';
  if (!TARGET_NORMALIZATIONS.includes(targetKind))
    throw new InvalidOptionError('targetNormalize', `targetNormalize must be one of ${TARGET_NORMALIZATIONS.join(', ')}, got ${JSON.stringify(targetKind)}`);
  const standardizeTargets = train.task === 'regression' && targetKind === 'standardize' && train.targets !== null;
  return {
    normalization: fitNormalization(kind, train),
    normalizationKind: kind,
    targetNormalization: standardizeTargets ? standardizeColumns(train.targets!, train.count, train.classes, `${train.source} targets`) : null,
    classNames: train.classNames ? [...train.classNames] : null,
    targetNames: train.targetNames ? [...train.targetNames] : null,
  };
}

/** The data set as the model sees it: inputs normalized, regression targets standardized, as the schema says. */
export function applySchema(schema: DataSchema, data: Dataset): Dataset {
  const normalized = data.withNormalization(schema.normalization);
  return data.targets ? normalized.withTargetNormalization(schema.targetNormalization) : normalized;
}

/** Maps network outputs (rows × cols) back to the targets' units, in place, for a regression schema. */
export function restoreTargets(schema: DataSchema, task: Task, out: Float32Array, cols: number): void {
  const t = schema.targetNormalization;
  if (task !== 'regression' || !t) return;
  for (let i = 0; i < out.length; i++) {
    const j = i % cols;
    out[i] = out[i] / (t.invStd ? t.invStd[j] : 1) + (t.mean ? t.mean[j] : 0);
  }
}

/** The per-output standard deviation regression targets were divided by, or null. */
export function targetStd(schema: DataSchema): Float32Array | null {
  const inv = schema.targetNormalization?.invStd;
  return inv ? inv.map((v) => 1 / v) : null;
}
