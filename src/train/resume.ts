// Resuming from a checkpoint: the run goes on with the checkpoint's options, and a caller's option
// that would make it a different run (another batch size, optimizer, learning rate, seed …) is
// refused, naming the option, rather than silently producing something neither run would have.
import type { ModelSpec } from '../nn/spec.js';
import type { Model } from '../nn/model.js';
import { type Normalization, type SavedNormalization, savedNormalization } from '../data/normalize.js';
import type { Checkpoint } from './checkpoint.js';
import type { TrainingData } from './data.js';
import type { ResolvedTrainOptions, TrainOptions } from './options.js';
import { InvalidOptionError } from '../errors.js';

/** Resolved options that must equal the checkpoint's (epochs may grow; workers, nonFinite and the rest may change). */
const FIXED = ['batchSize', 'optimizer', 'lr', 'schedule', 'loss', 'seed', 'shuffle', 'precision', 'earlyStopping'] as const;

/** The checkpoint's options with the caller's given ones over them; refuses another model or other data. */
export function optionsForResume(path: string, checkpoint: Checkpoint, model: Model, data: TrainingData, given: TrainOptions): TrainOptions {
  for (const key of Object.keys(checkpoint.spec) as (keyof ModelSpec)[]) {
    const [mine, theirs] = [JSON.stringify(model.spec[key]), JSON.stringify(checkpoint.spec[key])];
    if (mine !== theirs) throw new InvalidOptionError(key, `${key} ${mine} contradicts the checkpoint ${path}, whose model has ${key} ${theirs}`);
  }
  if (data.count !== checkpoint.order.length)
    throw new InvalidOptionError('data', `training data has ${data.count} samples but the checkpoint ${path} was trained on ${checkpoint.order.length}`);
  const normalization = normalizationOf(data);
  const saved = checkpoint.state.normalization;
  if (normalization && saved && JSON.stringify(normalization) !== JSON.stringify(saved))
    throw new InvalidOptionError('data', `training data is normalized otherwise than the data the checkpoint ${path} was trained on`);
  const s = checkpoint.state.options;
  const stored: TrainOptions = {
    epochs: s.epochs,
    batchSize: s.fullBatch ? 'full' : s.batchSize,
    optimizer: s.optimizer,
    lr: s.lr,
    schedule: s.schedule,
    loss: s.loss,
    seed: s.seed,
    shuffle: s.shuffle,
    workers: s.workers,
    nonFinite: s.nonFinite,
    precision: s.precision,
    earlyStopping: s.earlyStopping ?? undefined,
  };
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { ...stored, ...defined };
}

/** Refuses resolved options that contradict the checkpoint's, naming the option. */
export function checkResumed(path: string, checkpoint: Checkpoint, o: ResolvedTrainOptions): void {
  const s = checkpoint.state.options;
  for (const key of FIXED) {
    const [mine, theirs] = [JSON.stringify(o[key]), JSON.stringify(s[key])];
    if (mine !== theirs) throw new InvalidOptionError(key, `${key} ${mine} contradicts the checkpoint ${path}, which was trained with ${key} ${theirs}`);
  }
  if (o.epochs < checkpoint.state.epoch)
    throw new InvalidOptionError('epochs', `epochs ${o.epochs} is fewer than the ${checkpoint.state.epoch} the checkpoint ${path} has completed`);
}

/** The input normalization of a Dataset, as a checkpoint stores it; null for other training data. */
export function normalizationOf(data: TrainingData): SavedNormalization | null {
  const n = (data as TrainingData & { normalization?: Normalization }).normalization;
  return n ? savedNormalization(n) : null;
}
