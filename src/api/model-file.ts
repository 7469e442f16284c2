// Model files for the public API, in PyTorch's argument order (model first, then path): the
// safetensors model file of src/io/checkpoint.ts and the ONNX export of src/io/onnx.ts.
import type { Normalization, NormalizationKind } from '../data/normalize.js';
import { loadModel, saveModel } from '../io/checkpoint.js';
import { exportOnnx as writeOnnx } from '../io/onnx.js';
import { Model } from '../nn/model.js';
import type { TrainHistory } from '../train/trainer.js';

export interface SaveOptions {
  /** A record of how the model was trained (e.g. train()'s TrainHistory), stored as JSON in the file. */
  training?: TrainHistory | Record<string, unknown>;
  /**
   * The input normalization the model was trained with (the training Dataset's), so that whoever
   * loads the file feeds it inputs normalized the same way.
   */
  normalization?: { kind: NormalizationKind; normalization: Normalization };
}

/** The input normalization as a model file's training record stores it. */
interface SavedNormalization {
  kind: NormalizationKind;
  scale: number;
  mean?: number[];
  invStd?: number[];
}

/** Writes the model (spec, parameters, BatchNorm statistics) as one safetensors file, atomically. */
export function save(model: Model, path: string, options: SaveOptions = {}): Promise<void> {
  const training = { ...(options.training as Record<string, unknown> | undefined) };
  if (options.normalization) {
    const { kind, normalization: n } = options.normalization;
    const saved: SavedNormalization = { kind, scale: n.scale, ...(n.mean && { mean: Array.from(n.mean) }), ...(n.invStd && { invStd: Array.from(n.invStd) }) };
    training.normalization = saved;
  }
  return saveModel(path, { spec: model.spec, params: model.params, buffers: model.buffers, training });
}

/** Reads a file written by save(); the model's slabs are on shared memory, ready for worker threads. */
export async function load(path: string): Promise<Model> {
  return (await loadTrained(path)).model;
}

export interface TrainedModel {
  model: Model;
  /** The training record saved with it ({} for a file written without one). */
  training: Record<string, unknown>;
  /** The input normalization it was trained with (÷255 when the file does not say). */
  normalization: Normalization;
  normalizationKind: NormalizationKind;
}

/** Reads a model file with its training record and the input normalization it was trained with. */
export async function loadTrained(path: string): Promise<TrainedModel> {
  const file = await loadModel(path);
  const saved = file.training?.normalization as SavedNormalization | undefined;
  const width = file.spec.layers[0];
  let normalization: Normalization = { scale: 1 / 255 };
  if (saved) {
    const vector = (name: 'mean' | 'invStd') => {
      const v = saved[name];
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || v.length !== width) throw new Error(`${path}: the saved normalization's ${name} does not have ${width} values`);
      return Float32Array.from(v);
    };
    if (!(Number.isFinite(saved.scale) && saved.scale > 0)) throw new Error(`${path}: the saved normalization's scale is not a positive number`);
    normalization = { scale: saved.scale, mean: vector('mean'), invStd: vector('invStd') };
  }
  return {
    model: Model.fromArrays(file.spec, file.params, file.buffers),
    training: file.training ?? {},
    normalization,
    normalizationKind: saved?.kind ?? 'scale',
  };
}

/** Writes the model as an ONNX inference graph (input "input" [N, inputs]; output "probabilities" for softmax). */
export function exportOnnx(model: Model, path: string): Promise<void> {
  return writeOnnx(path, model);
}
