// Inference off the caller's thread: a Piscina pool of worker threads, each given one contiguous
// range of rows (whole chunks) and writing into shared output arrays, so that the caller's event
// loop stays free while a large batch or a data set is evaluated.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Model } from '../nn/model.js';
import { Dataset } from '../data/dataset.js';
import { workerFile } from '../util/worker-url.js';
import { CHUNK_ROWS, type Outputs, type RowSource } from './inference.js';
import type { InferenceTask } from './inference-worker.js';

/** Idle threads end after this long (they never keep the process alive: Piscina unrefs idle threads). */
const IDLE_TIMEOUT_MS = 30_000;

let pool: Piscina | null = null;

function inferencePool(): Piscina {
  pool ??= new Piscina({
    filename: workerFile(import.meta.url, './inference-worker.js'),
    minThreads: 0,
    maxThreads: availableParallelism(),
    idleTimeout: IDLE_TIMEOUT_MS,
  });
  return pool;
}

/**
 * Ends the inference threads once their running tasks finish. Not needed for the process to exit;
 * a later predict() or evaluate() starts a new pool.
 */
export async function closeInference(): Promise<void> {
  const closing = pool;
  pool = null;
  await closing?.close();
}

/** Outputs in shared memory, for worker threads to write into. */
export function sharedOutputs(rows: number, columns: number): Outputs {
  return {
    probabilities: new Float32Array(new SharedArrayBuffer(rows * columns * Float32Array.BYTES_PER_ELEMENT)),
    classes: new Int32Array(new SharedArrayBuffer(rows * Int32Array.BYTES_PER_ELEMENT)),
  };
}

/**
 * Like inferInline, on the pool's threads; `out` must come from sharedOutputs(). Every thread reads
 * the rows' shared memory without a copy. Resolves to the summed loss.
 */
export async function inferOffThread(model: Model, source: RowSource, rows: number, out: Outputs, withLoss: boolean): Promise<number> {
  const threads = inferencePool();
  const chunks = Math.ceil(rows / CHUNK_ROWS);
  const rowsPerThread = Math.ceil(chunks / threads.maxThreads) * CHUNK_ROWS;
  // Float rows become a Dataset: read in place when they span a SharedArrayBuffer, else copied there once.
  const dataset =
    source.kind === 'dataset'
      ? source.dataset
      : new Dataset({ images: source.x, labels: null, count: rows, width: model.inputs, source: 'inputs', normalization: source.normalization });
  const taskSource: InferenceTask['source'] = { kind: 'dataset', dataset: dataset.share() };
  const tasks: Promise<number>[] = [];
  for (let begin = 0; begin < rows; begin += rowsPerThread) {
    const task: InferenceTask = {
      spec: model.spec,
      params: model.params,
      buffers: model.buffers,
      source: taskSource,
      begin,
      end: Math.min(rows, begin + rowsPerThread),
      probabilities: out.probabilities,
      classes: out.classes,
      withLoss,
    };
    tasks.push(threads.run(task));
  }
  let lossSum = 0;
  for (const loss of await Promise.all(tasks)) lossSum += loss;
  return lossSum;
}
