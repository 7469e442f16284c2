// What the main thread and the workers of the data-parallel engine share: the task message each
// long-lived worker receives once, the control block (a small SharedArrayBuffer through which every
// command, barrier and per-worker result passes afterwards: no message per step), and the epoch's
// step log (learning rates in, outcomes out), one entry per step.
import type { SharedDataset } from '../../data/dataset.js';
import type { PackedWeight, Precision } from '../../nn/dense.js';
import type { ModelSpec } from '../../nn/spec.js';
import type { OptimizerConfig } from '../../optim/optimizer.js';
import type { BatchBuffers } from './batch-weights.js';

export enum Command {
  Epoch = 1,
  Evaluate = 2,
  Exit = 3,
}

/**
 * A test-only fault: worker `worker` fails at the start of step `step` (1-based, counted over the
 * engine's epochs): it throws, exits, or allocates until its heap limit ends the thread; or, 'stall',
 * it sleeps for 50 ms before it publishes its first layer for the weight gradients over the batch,
 * while its partners take its pieces.
 */
export interface FaultForTesting {
  worker: number;
  step: number;
  kind: 'throw' | 'exit' | 'oom' | 'stall';
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
  buffers: Float32Array;
  /** W private copies of the running statistics, bufferCount floats each: worker w moves copy w. */
  bufferCopies: Float32Array;
  /**
   * W gradient slots of paramCount floats: worker w writes its shard's gradient into slot w, then
   * sums its slice of the parameters over the slots into slot 0 (with batch, all but the weights).
   */
  slots: Float32Array;
  /**
   * Per layer, every worker's rows of its X and dZ, read by the weight gradients over the batch
   * (batch-weights.ts); null when the weights are summed over the slots.
   */
  batch: BatchBuffers | null;
  /** Per layer, its weights packed for the products: each worker packs the rows of its slice after updating them (null: one worker). */
  packed: PackedWeight[] | null;
  /** The products' precision (the packed weights are in it). */
  precision: Precision;
  optimizer: OptimizerConfig;
  optimizerState: Float32Array[];
  /** Optimizer updates applied before this engine's first step (a resumed run's). */
  applied: number;
  order: Int32Array;
  evalOrder: Int32Array | null;
  data: SharedDataset;
  evalData: SharedDataset | null;
  /** W records of the task's evaluation metric sums (metrics.ts): worker w writes record w. */
  evalSums: Float64Array;
  batchSize: number;
  /** This process's rank in the MPI world and the ranks in it (0 and 1 without MPI): see EngineSetup.world. */
  rank: number;
  ranks: number;
  control: SharedArrayBuffer;
  log: StepLog;
  /** Microseconds a worker polls a shared word before sleeping on it (0 when workers outnumber cores). */
  spinMicros: number;
  faultForTesting?: FaultForTesting;
}

/** An empty task: measures the pool's per-task dispatch cost. */
export interface PingTask {
  kind: 'ping';
}

export type WorkerTask = TrainTask | PingTask;

/** Int32 words of the control block (its ints, before the per-worker words). */
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
}
const WORDS = Word.Finished + 1;

/** Float64 fields of each worker's record. */
export enum Result {
  /** This worker's shard in the latest step. */
  LossSum = 0,
  Correct,
  /** Seconds over the epoch's steps: gather, forward and backward; the sum over the slots and its check; the update and packing. */
  GradientSeconds,
  ReduceSeconds,
  UpdateSeconds,
  /** Census of the offending tensor over this worker's rows, when a forward pass was not finite. */
  MaxFinite,
  NonFinite,
  /** A bound on the magnitude of every element of its gradient in the latest step (Infinity: none known). */
  GradientBound,
}

/** What became of a step. */
export enum StepStatus {
  Applied = 0,
  /** Skipped: a layer's pre-activation was not finite (StepLog.layer says which). */
  NonFiniteForward = 1,
  /** Skipped: the loss was not finite. */
  NonFiniteLoss = 2,
  /** Skipped: the reduced gradient was not finite. */
  NonFiniteGradient = 3,
}

/** Per step of an epoch: the learning rate (main thread to workers), the outcome (worker 0 to main thread). */
export interface StepLog {
  lr: Float64Array;
  lossSum: Float64Array;
  correct: Float64Array;
  status: Int32Array;
  /** With NonFiniteForward, the first layer (1-based) whose pre-activation was not finite. */
  layer: Int32Array;
}

export function createStepLog(steps: number): StepLog {
  const f64 = () => new Float64Array(new SharedArrayBuffer(8 * steps));
  const i32 = () => new Int32Array(new SharedArrayBuffer(4 * steps));
  return { lr: f64(), lossSum: f64(), correct: f64(), status: i32(), layer: i32() };
}

/**
 * Far below float's largest value (3.4e38): what the bound leaves out (the rounding of sums, bf16
 * rounding of the products' operands) cannot carry a gradient under it past that.
 */
const GRADIENT_LIMIT = 1e36;

// Each worker's float record fills its own 64-byte cache line: workers write them at the same time.
const RECORD = 8;

/** Int32 words kept per worker, after the shared words. */
enum WorkerWord {
  /** The first stage of its forward pass that was not finite: a layer 1…L, L + 1 for the loss, 0 none. */
  ForwardFault = 0,
  /** 1 when its slice of the reduced gradient is not finite. */
  GradientBad,
}
const WORKER_WORDS = WorkerWord.GradientBad + 1;

// Each worker's claim word fills its own cache line: its partners take pieces of its slice while it works.
const CLAIM_LINE = 16;

/** Typed views of the control block; the same class on both sides. */
export class Control {
  readonly ints: Int32Array;
  readonly floats: Float64Array;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly workers: number,
  ) {
    this.ints = new Int32Array(buffer, 0, intCount(workers));
    this.floats = new Float64Array(buffer, floatsOffset(workers), RECORD * workers);
  }

  static create(workers: number): Control {
    return new Control(new SharedArrayBuffer(floatsOffset(workers) + 8 * RECORD * workers), workers);
  }

  /** Index in ints of worker w's forward fault (see WorkerWord.ForwardFault). */
  forwardFault(w: number): number {
    return WORDS + WorkerWord.ForwardFault * this.workers + w;
  }

  /** Index in ints of worker w's flag: its slice of the reduced gradient is not finite. */
  gradientBad(w: number): number {
    return WORDS + WorkerWord.GradientBad * this.workers + w;
  }

  /**
   * Index in ints of the step's claims on the pieces of worker w's slice: how many it took from the
   * front (low 16 bits) and its partners from the back (high 16 bits).
   */
  claims(w: number): number {
    return claimsOffset(this.workers) + CLAIM_LINE * w;
  }

  /** The earliest forward fault over all workers, or 0 when there is none. */
  firstForwardFault(): number {
    let first = 0;
    for (let w = 0; w < this.workers; w++) {
      const stage = this.ints[this.forwardFault(w)];
      if (stage !== 0 && (first === 0 || stage < first)) first = stage;
    }
    return first;
  }

  /** Whether any worker found its slice of the reduced gradient not finite. */
  anyGradientBad(): boolean {
    for (let w = 0; w < this.workers; w++) if (this.ints[this.gradientBad(w)] !== 0) return true;
    return false;
  }

  /**
   * Whether the workers' bounds prove the step's gradient finite, so that it need not be checked
   * before the update (a NaN bound compares false).
   */
  gradientBounded(): boolean {
    let sum = 0;
    for (let w = 0; w < this.workers; w++) sum += this.floats[this.result(w, Result.GradientBound)];
    return sum < GRADIENT_LIMIT;
  }

  /** Index in floats of a field of worker w's record. */
  result(w: number, field: Result): number {
    return RECORD * w + field;
  }
}

function claimsOffset(workers: number): number {
  return Math.ceil((WORDS + WORKER_WORDS * workers) / CLAIM_LINE) * CLAIM_LINE;
}

function intCount(workers: number): number {
  return claimsOffset(workers) + CLAIM_LINE * workers;
}

/** The floats start on a cache line after the ints. */
function floatsOffset(workers: number): number {
  return Math.ceil((intCount(workers) * 4) / 64) * 64;
}
