// Model files for the public API, in PyTorch's argument order (model first, then path): the
// safetensors model file of src/io/fcnn-format.ts and the ONNX export of src/io/onnx.ts. The
// model's schema (input normalization, target scaling, class and target names) travels with it.
import { defaultSchema } from '../data/schema.js';
import { NORMALIZATION_KINDS, type Normalization, type NormalizationKind } from '../data/normalize.js';
import { loadModel, saveModel } from '../io/fcnn-format.js';
import { exportOnnx as writeOnnx } from '../io/onnx.js';
import { ModelFileError } from '../errors.js';
import { Model } from '../nn/model.js';
import type { TrainHistory } from '../train/trainer.js';

export interface SaveOptions {
  /** A record of how the model was trained (e.g. train()'s TrainHistory), stored as JSON in the file. */
  training?: TrainHistory | Record<string, unknown>;
}

/** A normalization as a model file stores it. */
interface SavedNormalization {
  kind?: NormalizationKind;
  scale: number;
  mean?: number[];
  invStd?: number[];
}

interface SavedSchema {
  normalizationKind: NormalizationKind;
  normalization: SavedNormalization;
  targetNormalization: SavedNormalization | null;
  classNames: string[] | null;
  targetNames: string[] | null;
}

/** Writes the model (spec, parameters, BatchNorm statistics, schema) as one safetensors file, atomically. */
export function save(model: Model, path: string, options: SaveOptions = {}): Promise<void> {
  const s = model.schema;
  const schema: SavedSchema = {
    normalizationKind: s.normalizationKind,
    normalization: savedNormalization(s.normalization),
    targetNormalization: s.targetNormalization && savedNormalization(s.targetNormalization),
    classNames: s.classNames,
    targetNames: s.targetNames,
  };
  const training = { ...(options.training as Record<string, unknown> | undefined) };
  return saveModel(path, { spec: model.spec, params: model.params, buffers: model.buffers, training, schema: { ...schema } });
}

/** Reads a file written by save(); the model's slabs are on shared memory, ready for worker threads. */
export async function load(path: string): Promise<Model> {
  return (await loadTrained(path)).model;
}

export interface TrainedModel {
  model: Model;
  /** The training record saved with it ({} for a file written without one). */
  training: Record<string, unknown>;
  /** The input normalization it was trained with (model.schema's; ÷255 when the file does not say). */
  normalization: Normalization;
  normalizationKind: NormalizationKind;
}

/**
 * Reads a model file with its training record and schema. A file written before models carried a
 * schema keeps its input normalization in the training record (training.normalization), or has
 * none (then ÷255, what those models were trained with).
 */
export async function loadTrained(path: string): Promise<TrainedModel> {
  const file = await loadModel(path);
  const width = file.spec.layers[0];
  const outputs = file.spec.layers[file.spec.layers.length - 1];
  const model = Model.fromArrays(file.spec, file.params, file.buffers);
  const fail = (problem: string) => new ModelFileError(path, `${path}: the saved schema ${problem}`);
  const schema = defaultSchema();
  const saved = file.schema as Partial<SavedSchema> | undefined;
  if (saved) {
    if (!NORMALIZATION_KINDS.includes(saved.normalizationKind as NormalizationKind))
      throw fail(`has normalizationKind ${JSON.stringify(saved.normalizationKind)}, expected one of ${NORMALIZATION_KINDS.join(', ')}`);
    schema.normalizationKind = saved.normalizationKind!;
    schema.normalization = readNormalization(saved.normalization, width, 'normalization', fail);
    schema.targetNormalization = saved.targetNormalization ? readNormalization(saved.targetNormalization, outputs, 'targetNormalization', fail) : null;
    schema.classNames = readNames(saved.classNames, outputs, 'classNames', fail);
    schema.targetNames = readNames(saved.targetNames, null, 'targetNames', fail);
  } else if (file.training?.normalization) {
    const old = file.training.normalization as SavedNormalization;
    schema.normalization = readNormalization(old, width, 'normalization', (p) => new ModelFileError(path, `${path}: the saved normalization ${p}`));
    schema.normalizationKind = old.kind ?? 'scale';
  }
  model.schema = schema;
  return { model, training: file.training ?? {}, normalization: schema.normalization, normalizationKind: schema.normalizationKind };
}

/** Writes the model as an ONNX inference graph over raw inputs (input "input" [N, inputs]; its normalization inside). */
export function exportOnnx(model: Model, path: string): Promise<void> {
  return writeOnnx(path, model, model.schema);
}

function savedNormalization(n: Normalization): SavedNormalization {
  return { scale: n.scale, ...(n.mean && { mean: Array.from(n.mean) }), ...(n.invStd && { invStd: Array.from(n.invStd) }) };
}

function readNormalization(saved: SavedNormalization | undefined, width: number, what: string, fail: (problem: string) => Error): Normalization {
  if (typeof saved !== 'object' || saved === null) throw fail(`has no ${what}`);
  const vector = (name: 'mean' | 'invStd') => {
    const v = saved[name];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length !== width || !v.every(Number.isFinite)) throw fail(`'s ${what}.${name} is not ${width} finite numbers`);
    return Float32Array.from(v);
  };
  if (!(Number.isFinite(saved.scale) && saved.scale > 0)) throw fail(`'s ${what}.scale is not a positive number`);
  return { scale: saved.scale, mean: vector('mean'), invStd: vector('invStd') };
}

function readNames(names: unknown, length: number | null, what: string, fail: (problem: string) => Error): string[] | null {
  if (names === null || names === undefined) return null;
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string') || (length !== null && names.length !== length))
    throw fail(`'s ${what} is not ${length ?? 'a list of'} strings`);
  return names as string[];
}
