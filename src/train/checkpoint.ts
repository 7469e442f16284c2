// A training checkpoint: everything a run needs to continue as if it had never stopped, in one
// safetensors file written atomically. The model file's tensors and metadata (io/fcnn-format.ts)
// plus the optimizer state slabs, the sample order (the shuffle permutes it in place, epoch after
// epoch), early stopping's best parameters, and in __metadata__.state the step count, the epoch,
// the shuffle generator, the history, the resolved options and the input normalization.
import type { SavedNormalization } from '../data/normalize.js';
import { decodeModel, modelContents } from '../io/fcnn-format.js';
import { readChecked, requireFinite, writeChecked } from '../io/integrity.js';
import type { Tensor } from '../io/safetensors.js';
import { type Layout, layoutOf, view } from '../nn/layout.js';
import type { ModelSpec } from '../nn/spec.js';
import type { RandomState } from '../util/random.js';
import type { EpochEvent, ResolvedTrainOptions } from './options.js';
import { ModelFileError } from '../errors.js';

export const CHECKPOINT_FORMAT = 'fcnn-checkpoint/1';

/** Early stopping's progress: the best value of the monitored metric so far, and since when. */
export interface EarlyStoppingState {
  best: number | null;
  bestEpoch: number;
  /** Epochs since the best one. */
  wait: number;
}

export type StopReason = 'completed' | 'early-stopping' | 'aborted';

/** The JSON part of a checkpoint. */
export interface TrainingState {
  /** Epochs completed. */
  epoch: number;
  /** Optimizer updates applied (the step count Adam's bias correction uses). */
  applied: number;
  /** The shuffle generator after the last completed epoch's shuffle. */
  rng: RandomState;
  skippedSteps: number;
  history: EpochEvent[];
  options: Omit<ResolvedTrainOptions, 'checkpoint'>;
  earlyStopping: EarlyStoppingState | null;
  stopReason: StopReason | null;
  /** The training data's input normalization, when it has one (a Dataset's). */
  normalization: SavedNormalization | null;
  /** The caller's own record (the CLI keeps its run configuration here). */
  context: Record<string, unknown> | null;
}

export interface Checkpoint {
  spec: ModelSpec;
  params: Float32Array;
  buffers: Float32Array;
  optimizerState: Float32Array[];
  order: Int32Array;
  /** Early stopping's best parameters and buffers, when it restores them. */
  best: { params: Float32Array; buffers: Float32Array } | null;
  state: TrainingState;
}

const ORDER = 'train.order';
const stateName = (i: number) => `optimizer.state.${i}`;
const bestName = (name: string) => `best.${name}`;

export async function writeCheckpoint(path: string, layout: Layout, checkpoint: Checkpoint): Promise<void> {
  const { tensors, metadata } = modelContents(path, checkpoint, CHECKPOINT_FORMAT);
  const slab = (data: Float32Array | Int32Array): Tensor => ({ shape: [data.length], data });
  checkpoint.optimizerState.forEach((s, i) => tensors.set(stateName(i), slab(s)));
  tensors.set(ORDER, slab(checkpoint.order));
  if (checkpoint.best) {
    for (const t of layout.params) tensors.set(bestName(t.name), { shape: t.shape, data: view(checkpoint.best.params, t) });
    for (const t of layout.buffers) tensors.set(bestName(t.name), { shape: t.shape, data: view(checkpoint.best.buffers, t) });
  }
  await writeChecked(path, { tensors, metadata: { ...metadata, state: stringify(checkpoint.state) } });
}

export async function readCheckpoint(path: string): Promise<Checkpoint> {
  const file = await readChecked(path);
  const fail = (problem: string) => new ModelFileError(path, `${path}: not an fcnn training checkpoint: ${problem}`);
  const extra = new Set([...file.tensors.keys()].filter((n) => n === ORDER || n.startsWith('optimizer.state.') || n.startsWith('best.')));
  const model = decodeModel(path, file, CHECKPOINT_FORMAT, extra);
  const state = parseState(file.metadata.state, fail);
  const layout = layoutOf(model.spec);

  const floats = (name: string, shape: number[]): Float32Array => {
    const t = file.tensors.get(name);
    if (!t) throw fail(`tensor ${JSON.stringify(name)} is missing`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw fail(`tensor ${JSON.stringify(name)} has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape)}`);
    if (!(t.data instanceof Float32Array)) throw fail(`tensor ${JSON.stringify(name)} is not F32`);
    requireFinite(name, t.data, fail);
    return t.data;
  };
  const optimizerState: Float32Array[] = [];
  for (let i = 0; file.tensors.has(stateName(i)); i++) optimizerState.push(floats(stateName(i), [layout.paramCount]));

  const orderTensor = file.tensors.get(ORDER);
  if (!orderTensor) throw fail(`tensor ${JSON.stringify(ORDER)} is missing`);
  const order = orderTensor.data;
  if (!(order instanceof Int32Array) || orderTensor.shape.length !== 1) throw fail(`tensor ${JSON.stringify(ORDER)} is not a vector of I32`);
  const seen = new Uint8Array(order.length);
  for (const i of order) {
    if (!(i >= 0 && i < order.length) || seen[i]) throw fail(`tensor ${JSON.stringify(ORDER)} is not a permutation of 0 … ${order.length - 1}`);
    seen[i] = 1;
  }

  let best: Checkpoint['best'] = null;
  if (file.tensors.has(bestName(layout.params[0].name))) {
    best = { params: new Float32Array(layout.paramCount), buffers: new Float32Array(layout.bufferCount) };
    for (const t of layout.params) best.params.set(floats(bestName(t.name), t.shape), t.offset);
    for (const t of layout.buffers) best.buffers.set(floats(bestName(t.name), t.shape), t.offset);
  }
  const known = new Set([
    ORDER,
    ...optimizerState.map((_, i) => stateName(i)),
    ...(best ? [...layout.params, ...layout.buffers].map((t) => bestName(t.name)) : []),
  ]);
  for (const name of extra) if (!known.has(name)) throw fail(`tensor ${JSON.stringify(name)} is not part of a checkpoint`);
  return { spec: model.spec, params: model.params, buffers: model.buffers, optimizerState, order, best, state };
}

// JSON has no NaN or Infinity (an epoch whose steps were all skipped has a NaN loss): they are
// written as strings and read back as numbers.
const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);

function stringify(state: TrainingState): string {
  return JSON.stringify(state, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

function parseState(text: string | undefined, fail: (problem: string) => Error): TrainingState {
  if (text === undefined) throw fail('__metadata__.state is missing');
  let state: TrainingState;
  try {
    state = JSON.parse(text, (_, v: unknown) => (typeof v === 'string' && NON_FINITE.has(v) ? Number(v) : v)) as TrainingState;
  } catch (err) {
    throw fail(`__metadata__.state is not valid JSON (${(err as Error).message})`);
  }
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (typeof state !== 'object' || state === null) throw fail('__metadata__.state is not a JSON object');
  if (!count(state.epoch)) throw fail('__metadata__.state.epoch is not a non-negative integer');
  if (!count(state.applied)) throw fail('__metadata__.state.applied is not a non-negative integer');
  if (!count(state.skippedSteps)) throw fail('__metadata__.state.skippedSteps is not a non-negative integer');
  if (!Array.isArray(state.history) || state.history.length !== state.epoch) throw fail(`__metadata__.state.history does not hold ${state.epoch} epochs`);
  if (typeof state.options !== 'object' || state.options === null) throw fail('__metadata__.state.options is not an object');
  if (typeof state.rng !== 'object' || state.rng === null) throw fail('__metadata__.state.rng is not an object');
  return state;
}
