// An engine computes a minibatch gradient and applies one optimizer step: the serial engine in
// the caller's thread, the data-parallel engine on a worker pool. The training loop (trainer.ts)
// is the same for both.
import type { World } from './mpi/world.js';
import type { Precision } from '../nn/dense.js';
import type { Model } from '../nn/model.js';
import type { OptimizerConfig } from '../optim/optimizer.js';
import type { TrainingData } from './data.js';
import type { NonFiniteReport } from '../errors.js';

export interface EngineSetup {
  model: Model;
  data: TrainingData;
  /** Evaluated after every epoch when given. */
  evalData?: TrainingData;
  /** The epoch's sample order (shared memory: the trainer shuffles it, engines read it). */
  order: Int32Array;
  /** Largest batch a step will be given. */
  batchSize: number;
  optimizer: OptimizerConfig;
  /** Optimizer state slabs, each laid out like model.params (shared memory). */
  optimizerState: Float32Array[];
  /**
   * The MPI world when training across processes: every step's batch is the global batch, of which
   * this rank computes its contiguous part (Shard of the ranks), its loss scaled by 1/globalBatch, and
   * the gradient is summed over the ranks before it is checked and applied. Outcomes and evaluations
   * are then this rank's part; the trainer sums them over the ranks.
   */
  world?: World;
  /** The training products' precision. */
  precision: Precision;
  /** Optimizer updates applied before the first step (a resumed run's; Adam's bias correction counts them). Default 0. */
  applied?: number;
}

/** One epoch's steps: step s trains on samples order[s·batchSize, min((s + 1)·batchSize, data.count)). */
export interface EpochPlan {
  steps: number;
  /** Each step's learning rate. */
  lr: Float64Array;
  /** End the epoch at the first step with a non-finite value (reported); otherwise skip such steps. */
  stopOnNonFinite: boolean;
}

/** Steps in an epoch over all of setup.data: its batches, the last one possibly short. */
export function batchesIn(setup: EngineSetup): number {
  return Math.ceil(setup.data.count / setup.batchSize);
}

/** RangeError unless the plan has from 1 to batchesIn(setup) steps, with a learning rate for each. */
export function checkPlan(plan: EpochPlan, setup: EngineSetup): void {
  const most = batchesIn(setup);
  if (!(Number.isInteger(plan.steps) && plan.steps >= 1 && plan.steps <= most))
    throw new RangeError(`an epoch has from 1 to ${most} steps (the batches in the data), got ${plan.steps}`);
  if (plan.lr.length < plan.steps) throw new RangeError(`the plan has ${plan.lr.length} learning rates for ${plan.steps} steps`);
}

export interface StepOutcome {
  /** Σ of per-sample losses over the batch. */
  lossSum: number;
  correct: number;
  /** The step was not applied because a value was not finite. */
  skipped: boolean;
  /**
   * What was not finite, and where: always for the step an epoch stopped at. The data-parallel
   * engine, whose workers run on while skipping, leaves it null for the steps it skipped.
   */
  nonFinite: NonFiniteReport | null;
}

export interface Evaluation {
  lossSum: number;
  correct: number;
  count: number;
  /** The task's metric sums over the samples (metrics.ts; empty for classification). */
  sums: Float64Array;
}

export type StepVisitor = (s: number, outcome: StepOutcome) => void;

export interface Engine {
  /** Worker threads used; 0 for the serial engine. */
  readonly workers: number;
  /**
   * Runs an epoch: for each step, the gradient of the mean loss over its samples, then one
   * optimizer step (nothing is updated when a value is not finite). Calls onStep for every step,
   * in order; the data-parallel engine's workers do not wait for it, so its calls come in bursts,
   * after the steps ran. Resolves after the last step, or the step the epoch stopped at. When
   * onStep throws, the epoch ends after the step running then, and rejects with that error.
   */
  epoch(plan: EpochPlan, onStep: StepVisitor): Promise<void>;
  /** Loss and accuracy on setup.evalData, in evaluation mode. */
  evaluate(): Promise<Evaluation>;
  /** Frees threads and memory; the engine cannot be used afterwards. */
  close(): Promise<void>;
}
