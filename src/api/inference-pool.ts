// Inference off the caller's thread: a Piscina pool of worker threads, each given one contiguous
// range of rows (whole chunks) and writing into shared output arrays, so that the caller's event
// loop stays free while a large batch or a data set is evaluated. What a call hands the threads in
// shared memory (the model's slabs, the outputs, float rows to copy) lives in scratch regions the
// pool keeps, so that calls leave the threads no fresh shared memory to hold on to.
import { availableParallelism } from 'node:os';
import type { Piscina } from 'piscina';
import type { Model } from '../nn/model.js';
import type { ModelSpec } from '../nn/spec.js';
import { SharedScratch } from '../util/shared-scratch.js';
import { createThreadPool, whenLoaded } from '../util/thread-pool.js';
import { workerFile } from '../util/worker-url.js';
import { CHUNK_ROWS, type Outputs, type RowSource } from './inference.js';
import type { InferenceTask } from './inference-worker.js';

/**
 * Idle threads end after this long (they never keep the process alive: Piscina unrefs idle threads),
 * and so does the scratch memory.
 */
const IDLE_TIMEOUT_MS = 30_000;

let pool: Piscina | null = null;

/** Where float rows outside shared memory are copied for the threads to read. */
export const rowScratch = new SharedScratch(IDLE_TIMEOUT_MS);
/** The model's parameters and buffers, copied: each model's own slabs would stay alive in every thread that saw them. */
const slabScratch = new SharedScratch(IDLE_TIMEOUT_MS);
/** The threads' outputs, copied out to the caller at the end. */
const outputScratch = new SharedScratch(IDLE_TIMEOUT_MS);

function inferencePool(): Piscina {
  pool ??= createThreadPool({
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
  for (const scratch of [rowScratch, slabScratch, outputScratch]) scratch.drop();
  if (!closing) return;
  await whenLoaded(closing);
  await closing.close();
}

/**
 * Like inferInline, on the pool's threads, into new outputs; with the summed loss. Every thread reads
 * the rows in shared memory: a data set's own, the caller's float rows where they already live on a
 * SharedArrayBuffer, else a copy of them in the pool's scratch memory.
 */
export async function inferOffThread(model: Model, source: RowSource, rows: number, withLoss: boolean): Promise<{ out: Outputs; lossSum: number }> {
  const F = Float32Array.BYTES_PER_ELEMENT;
  const { params, buffers } = model;
  const columns = model.classes;
  const slabLease = slabScratch.lease((params.length + buffers.length) * F);
  const outLease = outputScratch.lease(rows * (columns * F + Int32Array.BYTES_PER_ELEMENT));
  const copyRows = source.kind === 'rows' && !(source.x.buffer instanceof SharedArrayBuffer) ? source.x : null;
  const rowLease = copyRows && rowScratch.lease(copyRows.length * F);
  const copy = rowLease && new RowCopy(copyRows!, new Float32Array(rowLease.buffer, 0, copyRows!.length), model.inputs);
  try {
    const slabs = {
      params: new Float32Array(slabLease.buffer, 0, params.length),
      buffers: new Float32Array(slabLease.buffer, params.length * F, buffers.length),
    };
    slabs.params.set(params);
    slabs.buffers.set(buffers);
    const out: Outputs = {
      probabilities: new Float32Array(outLease.buffer, 0, rows * columns),
      classes: new Int32Array(outLease.buffer, rows * columns * F, rows),
    };
    const taskSource: InferenceTask['source'] =
      source.kind === 'dataset' ? { kind: 'dataset', dataset: source.dataset.share() } : copy ? { ...source, x: copy.to } : source;
    const done = runRanges(model.spec, slabs, taskSource, rows, out, withLoss, copy ?? undefined);
    copy?.run();
    const lossSum = await done;
    return { out: { probabilities: out.probabilities.slice(), classes: out.classes.slice() }, lossSum };
  } finally {
    copy?.abandon();
    for (const lease of [slabLease, outLease, rowLease]) lease?.release();
  }
}

/**
 * Copies float rows into shared memory after the threads have their tasks, one chunk of each
 * thread's range in turn, publishing per range how many of its rows are there: the threads start at
 * once and the copy overlaps their work instead of coming before it.
 */
class RowCopy {
  private readonly ranges: { begin: number; end: number }[] = [];
  /** Rows copied per range, −1 once abandoned; set in plan(). */
  copied: Int32Array = new Int32Array(0);

  constructor(
    private readonly from: Float32Array,
    readonly to: Float32Array,
    private readonly width: number,
  ) {}

  /** The thread ranges, in task order; returns the shared progress array that the tasks carry. */
  plan(ranges: { begin: number; end: number }[]): Int32Array {
    this.ranges.push(...ranges);
    this.copied = new Int32Array(new SharedArrayBuffer(ranges.length * Int32Array.BYTES_PER_ELEMENT));
    return this.copied;
  }

  run(): void {
    const { from, to, width, ranges, copied } = this;
    for (let offset = 0; ranges.some((r) => r.begin + offset < r.end); offset += CHUNK_ROWS)
      ranges.forEach(({ begin, end }, i) => {
        const first = begin + offset;
        if (first >= end) return;
        const last = Math.min(end, first + CHUNK_ROWS);
        to.set(from.subarray(first * width, last * width), first * width);
        Atomics.store(copied, i, last - begin);
        Atomics.notify(copied, i);
      });
  }

  /** Releases threads still waiting for rows (after a failed copy) with a −1; harmless once run() finished. */
  abandon(): void {
    this.ranges.forEach(({ begin, end }, i) => {
      if (Atomics.load(this.copied, i) < end - begin) {
        Atomics.store(this.copied, i, -1);
        Atomics.notify(this.copied, i);
      }
    });
  }
}

/** Splits the rows into one contiguous range of whole chunks per thread, each a task of the pool. */
async function runRanges(
  spec: ModelSpec,
  slabs: { params: Float32Array; buffers: Float32Array },
  source: InferenceTask['source'],
  rows: number,
  out: Outputs,
  withLoss: boolean,
  copy?: RowCopy,
): Promise<number> {
  const threads = inferencePool();
  const chunks = Math.ceil(rows / CHUNK_ROWS);
  const rowsPerThread = Math.ceil(chunks / threads.maxThreads) * CHUNK_ROWS;
  const ranges: { begin: number; end: number }[] = [];
  for (let begin = 0; begin < rows; begin += rowsPerThread) ranges.push({ begin, end: Math.min(rows, begin + rowsPerThread) });
  const copied = copy?.plan(ranges) ?? null;
  const tasks = ranges.map(({ begin, end }, range) => {
    const task: InferenceTask = {
      spec,
      params: slabs.params,
      buffers: slabs.buffers,
      source,
      begin,
      end,
      probabilities: out.probabilities,
      classes: out.classes,
      withLoss,
      copied: copied && { progress: copied, range },
    };
    return threads.run(task) as Promise<number>;
  });
  let lossSum = 0;
  for (const loss of await Promise.all(tasks)) lossSum += loss;
  return lossSum;
}
