// An engine computes a minibatch gradient and applies one optimizer step: the serial engine in
// the caller's thread, the data-parallel engine on a worker pool. The training loop (trainer.ts)
// is the same for both.
import type { Model } from '../nn/model.js';
import type { OptimizerConfig } from '../optim/optimizer.js';
import type { TrainingData } from './data.js';
import type { NonFiniteReport } from './guard.js';

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
}

export interface StepOutcome {
  /** Σ of per-sample losses over the batch. */
  lossSum: number;
  correct: number;
  /** Set when the step was not applied because a value was not finite. */
  nonFinite: NonFiniteReport | null;
}

export interface Evaluation {
  lossSum: number;
  correct: number;
  count: number;
}

export interface Engine {
  /** Worker threads used; 0 for the serial engine. */
  readonly workers: number;
  /**
   * Gradient of the mean loss over samples order[start .. start + count), then one optimizer
   * step with learning rate lr (step counts from 1). Nothing is updated when a value is not finite.
   */
  step(start: number, count: number, lr: number, step: number): Promise<StepOutcome>;
  /** Loss and accuracy on setup.evalData, in evaluation mode. */
  evaluate(): Promise<Evaluation>;
  /** Frees threads and memory; the engine cannot be used afterwards. */
  close(): Promise<void>;
}
