// Model files for the public API, in PyTorch's argument order (model first, then path): the
// safetensors model file of src/io/checkpoint.ts and the ONNX export of src/io/onnx.ts.
import { loadModel, saveModel } from '../io/checkpoint.js';
import { exportOnnx as writeOnnx } from '../io/onnx.js';
import { Model } from '../nn/model.js';
import type { TrainHistory } from '../train/trainer.js';

export interface SaveOptions {
  /** A record of how the model was trained (e.g. train()'s TrainHistory), stored as JSON in the file. */
  training?: TrainHistory | Record<string, unknown>;
}

/** Writes the model (spec, parameters, BatchNorm statistics) as one safetensors file, atomically. */
export function save(model: Model, path: string, options: SaveOptions = {}): Promise<void> {
  const training = options.training as Record<string, unknown> | undefined;
  return saveModel(path, { spec: model.spec, params: model.params, buffers: model.buffers, training });
}

/** Reads a file written by save(); the model's slabs are on shared memory, ready for worker threads. */
export async function load(path: string): Promise<Model> {
  const { spec, params, buffers } = await loadModel(path);
  return Model.fromArrays(spec, params, buffers);
}

/** Writes the model as an ONNX inference graph (input "input" [N, inputs]; output "probabilities" for softmax). */
export function exportOnnx(model: Model, path: string): Promise<void> {
  return writeOnnx(path, model);
}
