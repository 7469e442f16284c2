// Training options: what a caller may pass, the defaults, and one place that refuses values that
// cannot be right, naming the option.
import { availableParallelism } from 'node:os';
import { InvalidOptionError } from '../errors.js';
import { native } from '../native.js';
import type { Precision } from '../nn/dense.js';
import { type Loss, checkLoss, defaultLoss } from '../nn/loss.js';
import type { Model } from '../nn/model.js';
import { TASKS, type Task } from '../nn/spec.js';
import { type OptimizerConfig, type OptimizerName, type OptimizerOptions, defaultLr, resolveOptimizer } from '../optim/optimizer.js';
import { type Schedule, parseSchedule } from '../optim/schedule.js';
import type { TargetNormalizationKind } from '../data/schema.js';
import type { NormalizationKind } from '../data/normalize.js';
import type { TrainingData } from './data.js';

export interface EpochEvent {
  event: 'epoch';
  epoch: number;
  /** Mean training loss over the epoch's steps (as the parameters moved). */
  loss: number;
  /** Accuracy over the epoch's training batches (as the parameters moved); null for regression. */
  trainAccuracy: number | null;
  testLoss: number | null;
  /** Classification: accuracy; multi-label: mean per-label accuracy. */
  testAccuracy: number | null;
  /** Regression, in the targets' units (averaged over the outputs). */
  testMse?: number | null;
  testMae?: number | null;
  testR2?: number | null;
  /** Multi-label: macro F1 over the labels. */
  testF1?: number | null;
  /** Seconds spent on the epoch's training steps (evaluation excluded). */
  seconds: number;
  samplesPerSec: number;
  lr: number;
  skippedSteps: number;
}

export interface StepEvent {
  event: 'step';
  epoch: number;
  /** 1-based step within the epoch. */
  step: number;
  stepsPerEpoch: number;
  /** Mean loss of this batch. */
  loss: number;
  samples: number;
  samplesPerSec: number;
  lr: number;
}

export interface CheckpointOptions {
  path: string;
  everyEpochs?: number;
  /** JSON-able data of the caller's, stored in the checkpoint (the CLI keeps its run configuration there). */
  context?: Record<string, unknown>;
}

export interface EarlyStoppingOptions {
  /** A metric of the epoch event (EPOCH_METRICS); default testLoss with evalData, loss without. */
  monitor?: string;
  /** Epochs without improvement before stopping (default 5). */
  patience?: number;
  /** The least change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Put back the parameters of the best epoch when stopping (default true). */
  restoreBest?: boolean;
}

export interface ResolvedEarlyStopping {
  monitor: string;
  patience: number;
  minDelta: number;
  restoreBest: boolean;
  /** Whether a higher value of the metric is better. */
  higherIsBetter: boolean;
}

/**
 * The metrics of an epoch event that early stopping can monitor, whether higher is better, and
 * whether they need evalData. A metric added to EpochEvent is monitorable once listed here.
 */
export const EPOCH_METRICS: Readonly<Record<string, { higherIsBetter: boolean; needsEvalData: boolean; tasks: readonly Task[] }>> = {
  loss: { higherIsBetter: false, needsEvalData: false, tasks: TASKS },
  trainAccuracy: { higherIsBetter: true, needsEvalData: false, tasks: ['classification', 'multilabel'] },
  testLoss: { higherIsBetter: false, needsEvalData: true, tasks: TASKS },
  testAccuracy: { higherIsBetter: true, needsEvalData: true, tasks: ['classification', 'multilabel'] },
  testMse: { higherIsBetter: false, needsEvalData: true, tasks: ['regression'] },
  testMae: { higherIsBetter: false, needsEvalData: true, tasks: ['regression'] },
  testR2: { higherIsBetter: true, needsEvalData: true, tasks: ['regression'] },
  testF1: { higherIsBetter: true, needsEvalData: true, tasks: ['multilabel'] },
};

export interface TrainOptions {
  epochs?: number;
  /** Samples per step, or 'full' for full-batch gradient descent. */
  batchSize?: number | 'full';
  optimizer?: OptimizerName | OptimizerOptions;
  /** Base learning rate (default: sgd 0.1, momentum 0.05, adam/adamw 0.001). */
  lr?: number;
  schedule?: Schedule | string;
  /** The task's loss: cross-entropy for softmax, bce for multi-label, mse otherwise (the default). */
  loss?: Loss;
  /**
   * Input normalization, fitted on the training Dataset and stored in the model (model.schema):
   * scale (uint8 ÷255; float features by their range to [0, 1]), standardize (per feature) or none.
   * Default: scale for uint8 features, standardize for float features.
   */
  normalize?: NormalizationKind;
  /** Regression targets: standardize (default; fitted on the training data, undone by predict) or none. */
  targetNormalize?: TargetNormalizationKind;
  /** Shuffle seed. */
  seed?: number;
  shuffle?: boolean;
  /**
   * Worker threads; 0 trains in the caller's thread. Default: os.availableParallelism(), at most one
   * per row of a batch. More than a batch's rows, or than MAX_WORKERS_PER_CORE per core, is refused.
   */
  workers?: number;
  /** On a NaN/Inf: stop with NonFiniteError (default) or skip the step and count it. */
  nonFinite?: 'stop' | 'skip';
  /**
   * 'mpi': one rank of a data-parallel job across processes (started by mpirun, see docs/MPI.md);
   * batchSize is the global batch, every rank trains on its part of it with its own workers.
   */
  distributed?: 'mpi';
  /**
   * The matrix products' operands: 'fp32' (default), or 'bf16' (rounded to bf16, summed in fp32;
   * weights, optimizer, loss and every elementwise kernel stay fp32), which needs a CPU with
   * AVX512-BF16. Evaluation and inference run fp32 products.
   */
  precision?: Precision;
  /** Evaluated after every epoch (test or validation set). */
  evalData?: TrainingData;
  /**
   * Aborts the training after the current step: train() then rejects with a TrainingAbortedError
   * (name 'AbortError') carrying the history of the completed epochs, the model is left as it was
   * after the last of them, and with `checkpoint` set a checkpoint of that epoch is written first.
   */
  signal?: AbortSignal;
  /** Writes a training checkpoint (atomically) every `everyEpochs` epochs (default 1), after the last epoch and on abort. */
  checkpoint?: CheckpointOptions;
  /**
   * A checkpoint file to continue from: the model's parameters are replaced by the checkpoint's and
   * training goes on from its epoch, as the run that wrote it would have. Options left out take the
   * checkpoint's values; options given must agree with them, except epochs (more to train longer),
   * workers, nonFinite, evalData, the callbacks and checkpoint.
   */
  resume?: string;
  /** Stops when the monitored metric has not improved for `patience` epochs. */
  earlyStopping?: EarlyStoppingOptions;
  onEpoch?: (e: EpochEvent) => void;
  onStep?: (e: StepEvent) => void;
}

export interface ResolvedTrainOptions {
  epochs: number;
  batchSize: number;
  fullBatch: boolean;
  optimizer: OptimizerConfig;
  lr: number;
  schedule: Schedule;
  loss: Loss;
  seed: number;
  shuffle: boolean;
  workers: number;
  nonFinite: 'stop' | 'skip';
  distributed: 'mpi' | null;
  precision: Precision;
  /** The model has BatchNorm layers, which need at least 2 samples per batch. */
  batchNorm: boolean;
  earlyStopping: ResolvedEarlyStopping | null;
  checkpoint: { path: string; everyEpochs: number } | null;
}

/** Worker threads per available core that train may start (time-shared cores only slow a step). */
export const MAX_WORKERS_PER_CORE = 4;

export function resolveTrainOptions(model: Model, data: TrainingData, o: TrainOptions): ResolvedTrainOptions {
  checkData('data', 'training data', model, data);
  if (o.evalData) checkData('evalData', 'evalData', model, o.evalData);
  const epochs = o.epochs ?? 10;
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new InvalidOptionError('epochs', `epochs must be a positive integer, got ${epochs}`);
  const fullBatch = o.batchSize === 'full';
  const requested = fullBatch ? data.count : (o.batchSize ?? 128);
  if (!(Number.isInteger(requested) && (requested as number) >= 1))
    throw new InvalidOptionError('batchSize', `batchSize must be a positive integer or 'full', got ${JSON.stringify(o.batchSize)}`);
  const batchNorm = model.spec.norm === 'batch';
  if (batchNorm && Math.min(requested as number, data.count) < 2)
    throw new InvalidOptionError('batchSize', 'batchSize must be at least 2 with BatchNorm (one sample has no batch statistics)');
  const optimizer = resolveOptimizer(o.optimizer ?? 'momentum');
  const lr = o.lr ?? defaultLr(optimizer.kind);
  if (!(Number.isFinite(lr) && lr > 0)) throw new InvalidOptionError('lr', `lr must be a positive number, got ${lr}`);
  const loss = o.loss ?? defaultLoss(model.spec.output, model.spec.task);
  checkLoss(model.spec.output, loss, model.spec.task);
  const seed = o.seed ?? 1;
  if (!Number.isInteger(seed)) throw new InvalidOptionError('seed', `seed must be an integer, got ${seed}`);
  const batchSize = Math.min(requested as number, data.count);
  const workers = o.workers ?? Math.min(availableParallelism(), batchSize);
  checkWorkers(workers, batchSize);
  const nonFinite = o.nonFinite ?? 'stop';
  if (nonFinite !== 'stop' && nonFinite !== 'skip')
    throw new InvalidOptionError('nonFinite', `nonFinite must be 'stop' or 'skip', got ${JSON.stringify(nonFinite)}`);
  const distributed = o.distributed ?? null;
  if (distributed !== null && distributed !== 'mpi')
    throw new InvalidOptionError('distributed', `distributed must be 'mpi' when given, got ${JSON.stringify(distributed)}`);
  const precision = checkPrecision(o.precision ?? 'fp32');
  return {
    earlyStopping: o.earlyStopping ? resolveEarlyStopping(o.earlyStopping, o.evalData !== undefined, model.spec.task) : null,
    checkpoint: o.checkpoint ? resolveCheckpoint(o.checkpoint) : null,
    epochs,
    batchSize,
    fullBatch,
    optimizer,
    lr,
    schedule: typeof o.schedule === 'string' ? parseSchedule(o.schedule) : (o.schedule ?? { kind: 'constant', warmupSteps: 0 }),
    loss,
    seed,
    shuffle: o.shuffle ?? true,
    workers,
    nonFinite,
    distributed,
    precision,
    batchNorm,
  };
}

/**
 * Refuses worker counts that cannot help, before any thread starts: each worker costs its own
 * thread, replica buffers and gradient slot, a worker with no row of a batch only waits, and
 * threads far beyond the cores take turns on them while every step waits for the slowest.
 */
export function checkWorkers(workers: number, batchSize: number): void {
  if (!(Number.isInteger(workers) && workers >= 0 && workers <= 1024))
    throw new InvalidOptionError('workers', `workers must be an integer from 0 (serial) to 1024, got ${workers}`);
  const cores = availableParallelism();
  if (workers > MAX_WORKERS_PER_CORE * cores)
    throw new InvalidOptionError(
      'workers',
      `workers (${workers}) is more than ${MAX_WORKERS_PER_CORE} per core of the ${cores} available: the threads would take turns on the cores`,
    );
  if (workers > batchSize)
    throw new InvalidOptionError('workers', `workers (${workers}) is more than the ${batchSize} rows of a batch: a worker without rows only waits`);
}

/**
 * The precision, when this CPU can train in it: bf16 needs vdpbf16ps (AVX512-BF16: AMD Zen 4 and
 * later, Intel Cooper Lake and later) on the avx512 ISA; elsewhere the bf16 products are only
 * emulated, slower than fp32, so asking for them is an error rather than a silent slowdown.
 */
export function checkPrecision(precision: unknown): Precision {
  if (precision !== 'fp32' && precision !== 'bf16')
    throw new InvalidOptionError('precision', `precision must be 'fp32' or 'bf16', got ${JSON.stringify(precision)}`);
  if (precision === 'bf16' && native.bf16Kernel() !== 'avx512bf16') {
    const forced = process.env.FCNN_ISA ? ` (FCNN_ISA=${process.env.FCNN_ISA})` : '';
    throw new InvalidOptionError(
      'precision',
      `precision 'bf16' needs a CPU with AVX512-BF16 (vdpbf16ps) on the avx512 ISA; this one runs the ${native.isa()} ISA${forced}, ` +
        `where bf16 products are only emulated (slower than fp32): use precision 'fp32'`,
    );
  }
  return precision;
}

function checkData(option: string, what: string, model: Model, data: TrainingData): void {
  if (data.count < 1) throw new InvalidOptionError(option, `${what} is empty`);
  if (data.width !== model.inputs)
    throw new InvalidOptionError(option, `${what} has ${data.width} features per sample but the model's input width is ${model.inputs}`);
  const task = data.task ?? 'classification';
  if (task !== model.spec.task) throw new InvalidOptionError(option, `${what} holds ${task} targets but the model's task is ${model.spec.task}`);
  if (task === 'classification' && data.classes > model.classes) {
    data.requireLabelsBelow?.(model.classes, `the model has ${model.classes} outputs`);
    throw new InvalidOptionError(option, `${what} has ${data.classes} classes but the model has only ${model.classes} outputs`);
  }
  if (task !== 'classification' && data.classes !== model.outputs)
    throw new InvalidOptionError(option, `${what} has ${data.classes} target values per sample but the model has ${model.outputs} outputs`);
}

function resolveEarlyStopping(e: EarlyStoppingOptions, hasEvalData: boolean, task: Task): ResolvedEarlyStopping {
  if (typeof e !== 'object' || e === null) throw new InvalidOptionError('earlyStopping', `earlyStopping must be an object, got ${JSON.stringify(e)}`);
  const monitor = e.monitor ?? (hasEvalData ? 'testLoss' : 'loss');
  const metric = Object.hasOwn(EPOCH_METRICS, monitor) ? EPOCH_METRICS[monitor] : undefined;
  if (!metric)
    throw new InvalidOptionError(
      'earlyStopping',
      `earlyStopping.monitor must be a metric of the epoch event (${Object.keys(EPOCH_METRICS).join(', ')}), got ${JSON.stringify(monitor)}`,
    );
  if (metric.needsEvalData && !hasEvalData)
    throw new InvalidOptionError('earlyStopping', `earlyStopping.monitor ${JSON.stringify(monitor)} is measured on evalData, which is not given`);
  if (!metric.tasks.includes(task))
    throw new InvalidOptionError(
      'earlyStopping',
      `earlyStopping.monitor ${JSON.stringify(monitor)} is not measured for a ${task} model (its metrics: ${metricsOf(task).join(', ')})`,
    );
  const patience = e.patience ?? 5;
  if (!(Number.isInteger(patience) && patience >= 1))
    throw new InvalidOptionError('earlyStopping', `earlyStopping.patience must be a positive integer, got ${patience}`);
  const minDelta = e.minDelta ?? 0;
  if (!(Number.isFinite(minDelta) && minDelta >= 0))
    throw new InvalidOptionError('earlyStopping', `earlyStopping.minDelta must be a non-negative number, got ${minDelta}`);
  const restoreBest = e.restoreBest ?? true;
  if (typeof restoreBest !== 'boolean')
    throw new InvalidOptionError('earlyStopping', `earlyStopping.restoreBest must be true or false, got ${JSON.stringify(restoreBest)}`);
  return { monitor, patience, minDelta, restoreBest, higherIsBetter: metric.higherIsBetter };
}

/** The epoch metrics a model of this task reports. */
function metricsOf(task: Task): string[] {
  return Object.keys(EPOCH_METRICS).filter((name) => EPOCH_METRICS[name].tasks.includes(task));
}

function resolveCheckpoint(c: CheckpointOptions): { path: string; everyEpochs: number } {
  if (typeof c !== 'object' || c === null || typeof c.path !== 'string' || c.path === '')
    throw new InvalidOptionError('checkpoint', `checkpoint.path must be a file name, got ${JSON.stringify(c?.path)}`);
  const everyEpochs = c.everyEpochs ?? 1;
  if (!(Number.isInteger(everyEpochs) && everyEpochs >= 1))
    throw new InvalidOptionError('checkpoint', `checkpoint.everyEpochs must be a positive integer, got ${everyEpochs}`);
  return { path: c.path, everyEpochs };
}
