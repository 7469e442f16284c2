// A worker thread of the inference pool: runs one contiguous range of rows and writes its outputs
// into the caller's shared output arrays. Everything arrives as shared memory: the model's slabs,
// the data set's features or the float rows (a view of a SharedArrayBuffer), and the outputs.
import { type SharedDataset, datasetFromShared } from '../data/dataset.js';
import { Model } from '../nn/model.js';
import type { Network } from '../nn/network.js';
import type { ModelSpec } from '../nn/spec.js';
import { markLoaded } from '../util/thread-pool.js';
import { type RowSource, inferRows, inferenceNetwork } from './inference.js';

markLoaded();

export interface InferenceTask {
  spec: ModelSpec;
  params: Float32Array;
  buffers: Float32Array;
  /** Float rows are a view of a SharedArrayBuffer: structured cloning shares it, not copies it. */
  source: { kind: 'dataset'; dataset: SharedDataset } | Extract<RowSource, { kind: 'rows' }>;
  begin: number;
  end: number;
  probabilities: Float32Array;
  classes: Int32Array;
  withLoss: boolean;
  /**
   * For rows still being copied by the caller: progress[range] is how many rows of [begin, end) are
   * there so far, −1 if the copy was abandoned.
   */
  copied: { progress: Int32Array; range: number } | null;
}

/** The last model's network on this thread, with its own copy of the model's slabs. */
let kept: { spec: string; model: Model; net: Network } | null = null;

/**
 * The network for the task's model: kept from one task to the next, so that a task allocates no
 * activations (a thread collects its garbage lazily: a fresh network per task, megabytes, grows the
 * thread's memory by that much per call until a collection). The task's parameters are copied in,
 * since they change between calls (evaluation after each epoch).
 */
function networkFor(task: InferenceTask): Network {
  const spec = JSON.stringify(task.spec);
  if (kept?.spec !== spec) {
    const model = new Model(task.spec, new Float32Array(task.params.length), new Float32Array(task.buffers.length));
    kept = { spec, model, net: inferenceNetwork(model) };
  }
  kept.model.params.set(task.params);
  kept.model.buffers.set(task.buffers);
  return kept.net;
}

/** Returns the summed loss over the range (0 without withLoss). */
export default function runInference(task: InferenceTask): number {
  const source: RowSource = task.source.kind === 'dataset' ? { kind: 'dataset', dataset: datasetFromShared(task.source.dataset) } : task.source;
  const out = { probabilities: task.probabilities, classes: task.classes };
  const { copied, begin } = task;
  const awaitRows = copied ? (last: number) => awaitCopied(copied.progress, copied.range, last - begin) : undefined;
  return inferRows(networkFor(task), source, begin, task.end, out, task.withLoss, awaitRows);
}

/** Blocks until progress[i] reaches `rows`; throws if the copy was abandoned. */
function awaitCopied(progress: Int32Array, i: number, rows: number): void {
  for (let now = Atomics.load(progress, i); now < rows; now = Atomics.load(progress, i)) {
    if (now < 0) throw new Error('the caller stopped copying the rows');
    Atomics.wait(progress, i, now);
  }
}
