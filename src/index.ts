// fcnn: fully connected networks trained on multicore CPUs, as a typed async library.
//
//   const { train: trainSet, test } = await loadMnist();
//   const model = createModel({ layers: [784, 128, 10] }, { seed: 1 });
//   await train(model, trainSet, { epochs: 5, batchSize: 64, evalData: test });
//   const { accuracy, confusion } = await evaluate(model, test);
//   const { classes, probabilities } = await predict(model, test);
//   await save(model, 'mnist.safetensors');

// Errors: each with a stable `code` and the fields that say where (aborts reject with the signal's reason)
export {
  FcnnError,
  InvalidOptionError,
  DataFormatError,
  ModelFileError,
  NonFiniteError,
  WorkerFailedError,
  EngineClosedError,
  EngineBusyError,
  type FcnnErrorCode,
  type DataLocation,
  type NonFiniteReport,
} from './errors.js';

// Models
export { Model, createModel, type ModelOptions } from './nn/model.js';
export { DEFAULT_SPEC, TASKS, type ModelSpec, type Norm, type Task } from './nn/spec.js';
export { ACTIVATION_NAMES, type ActivationName } from './nn/activations.js';
export { OUTPUTS, LOSSES, type Output } from './nn/loss.js';
export type { Init } from './nn/init.js';
export type { Loss } from './nn/loss.js';

// Data
export {
  Dataset,
  loadMnist,
  loadIdx,
  loadIdxDirectory,
  loadCsv,
  writeCsv,
  splitDataset,
  takeFirst,
  fitNormalization,
  normalizeSplits,
  SCALE_TO_UNIT,
  NO_NORMALIZATION,
  type CsvOptions,
  type IdxOptions,
  type Normalization,
  type NormalizationKind,
  type Split,
  type SplitOptions,
  type SplitOrder,
} from './data/index.js';
export type { ArraysInit } from './data/arrays.js';
export type { DataSchema, TargetNormalizationKind } from './data/schema.js';
export type { TrainingData } from './train/data.js';
export type { TaskMetrics } from './train/metrics.js';

// Training
export { train, type TrainHistory } from './train/trainer.js';
export { EPOCH_METRICS, type CheckpointOptions, type EarlyStoppingOptions, type EpochEvent, type StepEvent, type TrainOptions } from './train/options.js';
export { TrainingAbortedError } from './train/aborted.js';
export type { StopReason } from './train/checkpoint.js';
export type { OptimizerName, OptimizerOptions } from './optim/optimizer.js';
export type { Schedule } from './optim/schedule.js';
export { trainEvents, type DoneEvent, type TrainEvent } from './api/events.js';

// Inference
export { predict, predictSync, INLINE_MAX_ROWS, type PredictInput, type PredictOptions, type Prediction } from './api/predict.js';
export { evaluate, type ClassMetrics, type Evaluation } from './api/evaluate.js';
export { closeInference } from './api/inference-pool.js';

// Files
export { save, load, loadTrained, exportOnnx, type SaveOptions, type TrainedModel } from './api/model-file.js';

// Diagnostics
export { gradientCheck, type GradientCheckOptions, type GradientCheckResult, type TensorCheck } from './diagnose/gradcheck.js';
