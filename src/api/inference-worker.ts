// A worker thread of the inference pool: runs one contiguous range of rows and writes its outputs
// into the caller's shared output arrays. Everything arrives as shared memory: the model's slabs,
// the data set's features (the caller's rows are one too), and the outputs.
import { type SharedDataset, datasetFromShared } from '../data/dataset.js';
import { Model } from '../nn/model.js';
import type { ModelSpec } from '../nn/spec.js';
import { type RowSource, inferRows, inferenceNetwork } from './inference.js';

export interface InferenceTask {
  spec: ModelSpec;
  params: Float32Array;
  buffers: Float32Array;
  source: { kind: 'dataset'; dataset: SharedDataset };
  begin: number;
  end: number;
  probabilities: Float32Array;
  classes: Int32Array;
  withLoss: boolean;
}

/** Returns the summed loss over the range (0 without withLoss). */
export default function runInference(task: InferenceTask): number {
  const model = new Model(task.spec, task.params, task.buffers);
  const source: RowSource = { kind: 'dataset', dataset: datasetFromShared(task.source.dataset) };
  const out = { probabilities: task.probabilities, classes: task.classes };
  return inferRows(inferenceNetwork(model), source, task.begin, task.end, out, task.withLoss);
}
