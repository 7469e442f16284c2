// What the main thread and the workers of the data-parallel engine share: the task message each
// long-lived worker receives once, the control block, a small SharedArrayBuffer through which
// every command, barrier and per-worker result passes afterwards (no message per step), and the
// epoch's plan and outcomes, one entry per step.
import type { SharedDataset } from '../../data/dataset.js';
import type { PackedWeight } from '../../nn/dense.js';
import type { ModelSpec } from '../../nn/spec.js';
import type { OptimizerConfig } from '../../optim/optimizer.js';

export enum Command {
  Epoch = 1,
  Evaluate = 2,
  Exit = 3,
}

/** A test-only fault: worker `worker` fails at the start of step `step` (1-based, counted over the engine's epochs). */
export interface FaultForTesting {
  worker: number;
  step: number;
  kind: 'throw' | 'exit';
}

/** The one message a worker gets: everything it needs, as shared memory or plain data. */
export interface TrainTask {
  kind: 'train';
  index: number;
  workers: number;
  spec: ModelSpec;
  /** The model's parameter slab (shared with the main thread and every worker). */
  params: Float32Array;
  /** The model's BatchNorm running statistics: after each step, the mean of the workers' copies. */
  runningStats: Float32Array;
  /** W private copies of the BatchNorm running statistics, bufferCount floats each. */
  buffers: Float32Array;
  /**
   * Gradient slots of paramCount floats: W of them, worker w writing slot w and summing its parameter
   * slice over the slots into slot 0. With batch buffers, the dense layers' gradients are computed
   * into slot 0 over the whole batch and a worker's slot holds only its norm layers' gradients: a
   * model without norm layers has only slot 0.
   */
  slots: Float32Array;
  /** Per layer, its weights packed for the products: each worker packs the rows of its slice after updating them (null: one worker). */
  packed: PackedWeight[] | null;
  /**
   * What the weight gradients over the whole batch read (weight-gradient.ts); null when a shard runs
   * in chunks, the model's gradients are summed over the slots instead (gradientsOverBatch), or with one worker.
   */
  batch: BatchBuffers | null;
  optimizer: OptimizerConfig;
  optimizerState: Float32Array[];
  order: Int32Array;
  evalOrder: Int32Array | null;
  data: SharedDataset;
  evalData: SharedDataset | null;
  batchSize: number;
  control: SharedArrayBuffer;
  plan: EpochBuffers;
  /** Microseconds a worker polls a shared word before sleeping on it (0 when workers outnumber cores). */
  spinMicros: number;
  faultForTesting?: FaultForTesting;
}

/**
 * Per layer, what its weight gradient dW = dZᵀ·X over the whole batch reads, in shared memory so that
 * any worker can compute blocks of it. Each holds W × capacity rows, worker w's shard network using
 * rows [w·capacity, (w + 1)·capacity) as its own buffer: the batch's rows in order, with rows of
 * zeros after a shard shorter than the capacity.
 */
export interface BatchBuffers {
  /** Rows of one shard. */
  capacity: number;
  /** The layer's input X: the network's input, then the hidden layers' activations. */
  x: Float32Array[];
  dz: Float32Array[];
  /** X packed as op(B) of the product (packB), each worker packing its rows' depths. */
  packedX: Float32Array[];
}

/** An empty task: measures the pool's per-task dispatch cost. */
export interface PingTask {
  kind: 'ping';
}

export type WorkerTask = TrainTask | PingTask;

/** Key of a worker's forward-pass problem: its first non-finite layer (1-based), or the loss after every layer. */
export const LOSS_KEY = 1 << 30;

/** Int32 words of the control block (its ints, before the per-worker flags). */
export enum Word {
  /** Sequence number of the latest command; workers wait for it to change. */
  Go = 0,
  Command,
  /** Steps in the epoch, and how many steps the engine ran before it (for fault injection). */
  Steps,
  StepsBefore,
  /** 1 when the epoch stops at its first step with a non-finite value, 0 when it skips such steps. */
  StopOnNonFinite,
  /** Set by the main thread to end the epoch early; the last worker at a step's end copies it to Halt. */
  HaltRequest,
  /** Whether the epoch ends after the current step: one value that every worker reads after the same barrier. */
  Halt,
  /** Steps of the epoch finished (updated or skipped); the main thread reads their outcomes. */
  Completed,
  /** Set when a worker failed or the engine is closing mid-command: every wait returns. */
  Abort,
  /** Workers that finished starting up. */
  Ready,
  BarrierArrived,
  BarrierGeneration,
  FinishedArrived,
  /** Sequence number of the latest command every worker finished; also notified with progress. */
  Finished,
  /** 1 when this epoch's packed weights are written past the caches (round-trip.ts), set by worker 0. */
  PackPastCaches,
}
const WORDS = Word.PackPastCaches + 1;

/** Float64 fields of each worker's record. */
export enum Result {
  /** This worker's shard in the latest step. */
  LossSum = 0,
  Correct,
  /** Seconds over the epoch's steps of gather, forward, backward and weight-gradient blocks; of the sum over the slots; of updates. */
  GradientSeconds,
  ReduceSeconds,
  UpdateSeconds,
  /** Census of the offending tensor over this worker's rows, when a forward pass was not finite. */
  MaxFinite,
  NonFinite,
}

/** A step's status in the epoch's outcomes: applied, or not because its gradient was not finite (else its forward key). */
export const APPLIED = 0;
export const GRADIENT_KEY = -1;

/** Per step of an epoch: the learning rate (main thread to workers), the outcome (worker 0 to main thread). */
export interface EpochBuffers {
  lr: Float64Array;
  lossSum: Float64Array;
  correct: Float64Array;
  /** APPLIED, GRADIENT_KEY or the forward key. */
  status: Int32Array;
}

export function createEpochBuffers(steps: number): EpochBuffers {
  const f64 = () => new Float64Array(new SharedArrayBuffer(8 * steps));
  return { lr: f64(), lossSum: f64(), correct: f64(), status: new Int32Array(new SharedArrayBuffer(4 * steps)) };
}

// Each worker's float record fills its own 64-byte cache line: workers write them at the same time.
const RECORD = 8;

/** Int32 words kept per worker, after the shared words. */
enum WorkerWord {
  /** Its first non-finite layer in the step's forward pass (0, a layer, or LOSS_KEY). */
  ForwardKey = 0,
  /** 1 when the part of the step's gradient that it summed or computed is not finite. */
  GradientBad,
  /** Worker 0 and this worker take turns on it to time a round trip (round-trip.ts). */
  Probe,
}
const WORKER_WORDS = WorkerWord.Probe + 1;

/** Typed views of the control block; the same class on both sides. */
export class Control {
  readonly ints: Int32Array;
  readonly floats: Float64Array;

  /** `layers`: the model's dense layers. */
  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly workers: number,
    readonly layers: number,
  ) {
    this.ints = new Int32Array(buffer, 0, intCount(workers, layers));
    this.floats = new Float64Array(buffer, floatsOffset(workers, layers), floatCount(workers, layers));
  }

  static create(workers: number, layers: number): Control {
    return new Control(new SharedArrayBuffer(floatsOffset(workers, layers) + 8 * floatCount(workers, layers)), workers, layers);
  }

  /** Index in ints of worker w's forward key (0, a layer, or LOSS_KEY). */
  forwardKey(w: number): number {
    return this.word(WorkerWord.ForwardKey, w);
  }

  /** Index in ints of worker w's flag: the part of the gradient it summed or computed is not finite. */
  gradientBad(w: number): number {
    return this.word(WorkerWord.GradientBad, w);
  }

  /**
   * Index in ints of the step (counted over epochs, from 1) for which worker w's shard has the
   * layer's dZ and packed X ready, or its negative when the shard has none that step (its forward
   * pass was not finite).
   */
  published(w: number, layer: number): number {
    return WORDS + WORKER_WORDS * this.workers + layer * this.workers + w;
  }

  /**
   * Index in ints of the next block to take of worker w's share of the layer's weight gradient
   * (counted from the share's first block; any worker takes one with Atomics.add).
   */
  nextBlock(layer: number, w: number): number {
    return WORDS + (WORKER_WORDS + this.layers) * this.workers + layer * this.workers + w;
  }

  /** The first forward-pass problem over all workers (the lowest key), or 0 when there is none. */
  worstForwardKey(): number {
    let worst = 0;
    for (let w = 0; w < this.workers; w++) {
      const k = this.ints[this.forwardKey(w)];
      if (k !== 0 && (worst === 0 || k < worst)) worst = k;
    }
    return worst;
  }

  /** Whether any worker found its part of the gradient not finite. */
  anyGradientBad(): boolean {
    for (let w = 0; w < this.workers; w++) if (this.ints[this.gradientBad(w)] !== 0) return true;
    return false;
  }

  /** Index in ints of the word on which worker 0 times its round trip to worker w. */
  probe(w: number): number {
    return this.word(WorkerWord.Probe, w);
  }

  /** Index in floats of a field of worker w's record. */
  result(w: number, field: Result): number {
    return RECORD * w + field;
  }

  /** Index in floats of max |dZ| over worker w's rows of the layer, published with it; max |X| follows. */
  maxima(w: number, layer: number): number {
    return RECORD * this.workers + 2 * (layer * this.workers + w);
  }

  private word(kind: WorkerWord, w: number): number {
    return WORDS + kind * this.workers + w;
  }
}

function intCount(workers: number, layers: number): number {
  return WORDS + (WORKER_WORDS + 2 * layers) * workers;
}

/** The floats start on a cache line after the ints. */
function floatCount(workers: number, layers: number): number {
  return (RECORD + 2 * layers) * workers;
}

function floatsOffset(workers: number, layers: number): number {
  return Math.ceil((intCount(workers, layers) * 4) / 64) * 64;
}
