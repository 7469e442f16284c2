// The training loop, the same for the serial and the data-parallel engine:
// for each epoch, shuffle; for each minibatch, one gradient and one optimizer step; then evaluate,
// watch for early stopping and write the checkpoint. Everything that decides what the next epoch
// does lives in a RunState, so that a checkpoint of it continues the run bit for bit.
import type { ArraysInit } from '../data/arrays.js';
import { Dataset } from '../data/dataset.js';
import { NO_NORMALIZATION } from '../data/normalize.js';
import { applySchema, fitSchema, targetStd } from '../data/schema.js';
import { type World, joinWorld } from './mpi/world.js';
import { averageBuffers, broadcastModel, checkModelsAgree, checkSameRun, failJob, sumOverRanks } from './mpi/rank.js';
import type { Model } from '../nn/model.js';
import { hasFloatTargets } from '../nn/loss.js';
import { sharedBuffer, sharedFloats } from '../util/shared-memory.js';
import { updateRule } from '../optim/optimizer.js';
import { learningRate } from '../optim/schedule.js';
import { Random } from '../util/random.js';
import { TrainingAbortedError } from './aborted.js';
import { type Checkpoint, type EarlyStoppingState, type StopReason, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import type { TrainingData } from './data.js';
import type { Engine, EngineSetup } from './engine.js';
import { NonFiniteError } from '../errors.js';
import { summarizeMetrics } from './metrics.js';
import { type EpochEvent, type ResolvedTrainOptions, type TrainOptions, resolveTrainOptions } from './options.js';
import { Shard, minShardRows } from './parallel/partition.js';
import { checkResumed, normalizationOf, optionsForResume } from './resume.js';
import { SerialEngine, identity } from './serial.js';

export interface TrainHistory {
  /** Every epoch of the run, those before a resume included. */
  epochs: EpochEvent[];
  /** Accuracy on evalData after the last epoch, when given. */
  testAccuracy: number | null;
  /** Seconds this call of train() took. */
  seconds: number;
  workers: number;
  skippedSteps: number;
  options: ResolvedTrainOptions;
  /** 'completed': every epoch ran; 'early-stopping': the monitored metric stopped improving; 'aborted' (on TrainingAbortedError). */
  stopReason: StopReason;
  /** With early stopping: the epoch with the best monitored value (whose parameters the model holds with restoreBest). */
  bestEpoch: number | null;
  /** The checkpoint file last written, or null (with distributed: 'mpi', rank 0 writes it). */
  checkpoint: string | null;
  /** With distributed: 'mpi', this process's rank and the ranks in the job (0 and 1 otherwise). */
  rank: number;
  worldSize: number;
  /** With distributed: 'mpi', the MPI library's version line. */
  mpiLibrary: string | null;
}

/**
 * Trains the model on the data. A Dataset's schema (input normalization, regression target scaling,
 * class names) is fitted on it and stored in model.schema, and both data sets are seen through it;
 * other TrainingData are taken as the network's inputs, as they gather them. Arrays ({ x, y }) are
 * made a Dataset first (Dataset.fromArrays). With distributed: 'mpi', every rank of the job calls
 * it with the same data and options; an error on any rank is printed with its rank and ends the
 * whole job (MPI_Abort), since the other ranks would otherwise wait for it forever.
 */
export async function train(model: Model, given: TrainingData | ArraysInit, options: TrainOptions = {}): Promise<TrainHistory> {
  let data = isTrainingData(given) ? given : Dataset.fromArrays(given);
  if (options.resume !== undefined && (typeof options.resume !== 'string' || options.resume === ''))
    throw new RangeError(`resume must be a checkpoint file name, got ${JSON.stringify(options.resume)}`);
  const resumed = options.resume ? await readCheckpoint(options.resume) : null;
  const o = resolveTrainOptions(model, data, resumed ? optionsForResume(options.resume!, resumed, model, data, options) : options);
  if (resumed) checkResumed(options.resume!, resumed, o);
  if (data instanceof Dataset) {
    model.schema = fitSchema(data, options);
    data = applySchema(model.schema, data);
    if (options.evalData instanceof Dataset) options = { ...options, evalData: applySchema(model.schema, options.evalData) };
  } else if (o.workers > 0) {
    data = materialize(data, 'training data');
    if (options.evalData && !(options.evalData instanceof Dataset)) options = { ...options, evalData: materialize(options.evalData, 'evalData') };
  }
  options.signal?.throwIfAborted();
  if (o.distributed !== 'mpi') return runOn(model, data, o, options, resumed);
  const world = joinWorld();
  try {
    checkSameRun(world, {
      'the training samples': data.count,
      'the evaluation samples': options.evalData?.count ?? 0,
      'the features per sample': data.width,
      batchSize: o.batchSize,
      "the model's parameters": model.layout.paramCount,
      epochs: o.epochs,
      seed: o.seed,
      shuffle: o.shuffle ? 1 : 0,
    });
    broadcastModel(world, model);
    const history = await runOn(model, data, o, options, resumed, world);
    checkModelsAgree(world, model);
    return history;
  } catch (err) {
    return failJob(world, err);
  }
}

async function runOn(
  model: Model,
  data: TrainingData,
  o: ResolvedTrainOptions,
  options: TrainOptions,
  resumed: Checkpoint | null,
  world?: World,
): Promise<TrainHistory> {
  const run = new RunState(model, data, o, resumed);
  const setup: EngineSetup = {
    model,
    data,
    evalData: options.evalData,
    order: run.order,
    batchSize: o.batchSize,
    optimizer: o.optimizer,
    optimizerState: run.optimizerState,
    applied: run.applied,
    world,
    precision: o.precision,
  };
  const engine = await createEngine(setup, o.workers);
  try {
    return await loop(engine, data, run, o, options, world);
  } finally {
    await engine.close();
  }
}

function isTrainingData(data: TrainingData | ArraysInit): data is TrainingData {
  return typeof (data as Partial<TrainingData>).gather === 'function';
}

/**
 * Other TrainingData, gathered once into a float Dataset (inputs as the data gives them, so stored
 * without normalization), so that the data-parallel engine's workers can share it.
 */
function materialize(data: TrainingData, what: string): Dataset {
  const task = data.task ?? 'classification';
  const n = data.count;
  const x = new Float32Array(sharedBuffer(n * data.width * 4));
  const floats = hasFloatTargets(task);
  const y = floats ? new Float32Array(sharedBuffer(n * data.classes * 4)) : new Int32Array(sharedBuffer(n * 4));
  data.gather(identity(n), 0, n, x, y);
  return new Dataset({
    images: x,
    labels: floats ? null : (y as Int32Array),
    targets: floats ? (y as Float32Array) : null,
    task,
    count: n,
    width: data.width,
    classes: data.classes,
    source: what,
    normalization: NO_NORMALIZATION,
  });
}

async function createEngine(setup: EngineSetup, workers: number): Promise<Engine> {
  if (workers === 0) return new SerialEngine(setup);
  const { DataParallelEngine } = await import('./parallel/engine.js');
  return DataParallelEngine.create(setup, workers);
}

/**
 * Where a run stands after its last completed epoch: the model's slabs (the model itself), and the
 * optimizer state, step count, sample order, shuffle generator, history and early-stopping progress.
 * `saved` keeps a copy of all of it, so that an abort mid-epoch goes back to the last completed epoch.
 */
class RunState {
  readonly order: Int32Array;
  readonly optimizerState: Float32Array[];
  rng: Random;
  applied = 0;
  epoch = 0;
  skippedSteps = 0;
  readonly history: EpochEvent[] = [];
  readonly earlyStopping: EarlyStoppingState | null;
  /** Early stopping's best parameters and buffers (with restoreBest). */
  readonly best: { params: Float32Array; buffers: Float32Array } | null;
  stopReason: StopReason | null = null;
  private readonly saved: { params: Float32Array; buffers: Float32Array; optimizerState: Float32Array[]; order: Int32Array };
  private savedRng: ReturnType<Random['state']>;
  private savedApplied = 0;
  private savedSkipped = 0;

  constructor(
    readonly model: Model,
    data: TrainingData,
    readonly options: ResolvedTrainOptions,
    resumed: Checkpoint | null,
  ) {
    const { paramCount } = model.layout;
    this.order = new Int32Array(new SharedArrayBuffer(data.count * Int32Array.BYTES_PER_ELEMENT));
    for (let i = 0; i < data.count; i++) this.order[i] = i;
    this.optimizerState = Array.from({ length: updateRule(options.optimizer).stateSlabs }, () => sharedFloats(paramCount));
    this.rng = new Random(options.seed);
    this.earlyStopping = options.earlyStopping ? { best: null, bestEpoch: 0, wait: 0 } : null;
    this.best = options.earlyStopping?.restoreBest ? { params: model.params.slice(), buffers: model.buffers.slice() } : null;
    if (resumed) this.restore(resumed);
    this.saved = {
      params: model.params.slice(),
      buffers: model.buffers.slice(),
      optimizerState: this.optimizerState.map((s) => s.slice()),
      order: this.order.slice(),
    };
    this.savedRng = this.rng.state();
    this.savedApplied = this.applied;
    this.savedSkipped = this.skippedSteps;
  }

  private restore(c: Checkpoint): void {
    const s = c.state;
    if (c.optimizerState.length !== this.optimizerState.length)
      throw new RangeError(
        `the checkpoint has ${c.optimizerState.length} optimizer state slabs but ${this.options.optimizer.kind} needs ${this.optimizerState.length}`,
      );
    if (this.best && !c.best) throw new RangeError('the checkpoint lacks the best parameters that earlyStopping.restoreBest puts back');
    this.model.params.set(c.params);
    this.model.buffers.set(c.buffers);
    c.optimizerState.forEach((slab, i) => this.optimizerState[i].set(slab));
    this.order.set(c.order);
    this.rng = Random.fromState(s.rng);
    this.applied = s.applied;
    this.epoch = s.epoch;
    this.skippedSteps = s.skippedSteps;
    this.history.push(...s.history);
    if (this.earlyStopping && s.earlyStopping) Object.assign(this.earlyStopping, s.earlyStopping);
    if (this.best && c.best) {
      this.best.params.set(c.best.params);
      this.best.buffers.set(c.best.buffers);
    }
    this.stopReason = s.stopReason === 'aborted' ? null : s.stopReason;
  }

  /** Records a completed epoch and keeps a copy of where the run now stands. */
  complete(event: EpochEvent): void {
    this.epoch = event.epoch;
    this.history.push(event);
    this.watch(event);
    const { saved, model } = this;
    saved.params.set(model.params);
    saved.buffers.set(model.buffers);
    saved.optimizerState.forEach((s, i) => s.set(this.optimizerState[i]));
    saved.order.set(this.order);
    this.savedRng = this.rng.state();
    this.savedApplied = this.applied;
    this.savedSkipped = this.skippedSteps;
  }

  /** Early stopping: did the monitored metric improve by more than minDelta? */
  private watch(event: EpochEvent): void {
    const config = this.options.earlyStopping;
    const state = this.earlyStopping;
    if (!config || !state) return;
    const value = (event as unknown as Record<string, number>)[config.monitor];
    const sign = config.higherIsBetter ? 1 : -1;
    const improved = Number.isFinite(value) && (state.best === null || sign * (value - state.best) > config.minDelta);
    if (improved) {
      state.best = value;
      state.bestEpoch = event.epoch;
      state.wait = 0;
      this.best?.params.set(this.model.params);
      this.best?.buffers.set(this.model.buffers);
    } else if (++state.wait >= config.patience) {
      this.stopReason = 'early-stopping';
    }
  }

  /** Back to the last completed epoch (after an abort mid-epoch). */
  rewind(): void {
    this.model.params.set(this.saved.params);
    this.model.buffers.set(this.saved.buffers);
    this.optimizerState.forEach((s, i) => s.set(this.saved.optimizerState[i]));
    this.order.set(this.saved.order);
    this.rng = Random.fromState(this.savedRng);
    this.applied = this.savedApplied;
    this.skippedSteps = this.savedSkipped;
  }

  /** Ends an early-stopped run on the best epoch's parameters, when asked to. */
  finish(): void {
    if (this.stopReason === 'early-stopping' && this.best) {
      this.model.params.set(this.best.params);
      this.model.buffers.set(this.best.buffers);
    }
  }

  /** The checkpoint of the last completed epoch. */
  checkpoint(data: TrainingData, context: Record<string, unknown> | null): Checkpoint {
    const { checkpoint: _, ...options } = this.options;
    return {
      spec: this.model.spec,
      params: this.saved.params,
      buffers: this.saved.buffers,
      optimizerState: this.saved.optimizerState,
      order: this.saved.order,
      best: this.best,
      state: {
        epoch: this.epoch,
        applied: this.savedApplied,
        rng: this.savedRng,
        skippedSteps: this.savedSkipped,
        history: this.history,
        options,
        earlyStopping: this.earlyStopping,
        stopReason: this.stopReason,
        normalization: normalizationOf(data),
        context,
      },
    };
  }
}

async function loop(engine: Engine, data: TrainingData, run: RunState, o: ResolvedTrainOptions, options: TrainOptions, world?: World): Promise<TrainHistory> {
  // This rank's part of each batch (the whole batch without MPI): what the engine's outcomes cover.
  const part = new Shard(world?.size ?? 1, world?.rank ?? 0, minShardRows(run.model.spec));
  const model = run.model;
  const { task } = model.spec;
  const outputs = model.outputs;
  // BatchNorm cannot normalize a batch of one sample: such a final batch is dropped (the shuffle
  // gives that sample its turn in other epochs).
  const dropLast = o.batchNorm && data.count % o.batchSize === 1;
  const stepsPerEpoch = dropLast ? Math.floor(data.count / o.batchSize) : Math.ceil(data.count / o.batchSize);
  const totalSteps = stepsPerEpoch * o.epochs;
  const started = performance.now();
  const plan = { steps: stepsPerEpoch, lr: new Float64Array(stepsPerEpoch), stopOnNonFinite: o.nonFinite === 'stop' };
  /** The checkpoint last written, and of which epoch. */
  const written = { path: null as string | null, epoch: -1 };
  const history = (stopReason: StopReason): TrainHistory => ({
    epochs: run.history.slice(),
    testAccuracy: run.history.length ? run.history[run.history.length - 1].testAccuracy : null,
    seconds: (performance.now() - started) / 1000,
    workers: engine.workers,
    skippedSteps: run.skippedSteps,
    options: o,
    stopReason,
    bestEpoch: run.earlyStopping ? run.earlyStopping.bestEpoch || null : null,
    checkpoint: written.path,
    rank: world?.rank ?? 0,
    worldSize: world?.size ?? 1,
    mpiLibrary: world?.library ?? null,
  });
  // Every rank holds the same state: one of them writes it.
  const save = async () => {
    if (!o.checkpoint || (world && world.rank !== 0) || (written.path === o.checkpoint.path && written.epoch === run.epoch)) return;
    await writeCheckpoint(o.checkpoint.path, run.model.layout, run.checkpoint(data, options.checkpoint?.context ?? null));
    written.path = o.checkpoint.path;
    written.epoch = run.epoch;
  };

  try {
    while (run.epoch < o.epochs && run.stopReason === null) {
      const epoch = run.epoch + 1;
      options.signal?.throwIfAborted();
      if (o.shuffle) run.rng.shuffle(run.order);
      for (let s = 0; s < stepsPerEpoch; s++) plan.lr[s] = learningRate(o.schedule, o.lr, (epoch - 1) * stepsPerEpoch + s, stepsPerEpoch, totalSteps);
      const epochStart = performance.now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let skipped = 0;
      await engine.epoch(plan, (s, out) => {
        options.signal?.throwIfAborted();
        if (out.skipped) {
          if (o.nonFinite === 'stop') throw new NonFiniteError(epoch, s + 1, out.nonFinite!);
          skipped++;
          run.skippedSteps++;
          return;
        }
        run.applied++;
        const count = Math.min(o.batchSize, data.count - s * o.batchSize);
        part.of(count);
        lossSum += out.lossSum;
        correct += out.correct;
        seen += count;
        options.onStep?.({
          event: 'step',
          epoch,
          step: s + 1,
          stepsPerEpoch,
          // With MPI, this rank's part of the batch: the step's loss over all ranks would cost a collective per step.
          loss: part.rows > 0 ? out.lossSum / part.rows : NaN,
          samples: seen,
          samplesPerSec: seen / ((performance.now() - epochStart) / 1000),
          lr: plan.lr[s],
        });
      });
      const lr = plan.lr[stepsPerEpoch - 1];
      const seconds = (performance.now() - epochStart) / 1000;
      options.signal?.throwIfAborted();
      if (world) {
        // Skipped steps are the same on every rank (each checks the same summed gradient).
        [lossSum, correct] = sumOverRanks(world, Float64Array.of(lossSum, correct));
        averageBuffers(world, run.model);
      }
      let test = options.evalData ? await engine.evaluate() : null;
      if (world && test) {
        const [testLoss, testCorrect, count, ...sums] = sumOverRanks(world, Float64Array.of(test.lossSum, test.correct, test.count, ...test.sums));
        test = { lossSum: testLoss, correct: testCorrect, count, sums: Float64Array.from(sums) };
      }
      const metrics = test && summarizeMetrics(task, test.sums, test.count, test.correct, outputs, targetStd(model.schema));
      const event: EpochEvent = {
        event: 'epoch',
        epoch,
        loss: seen ? lossSum / seen : NaN,
        trainAccuracy: task === 'regression' ? null : seen ? correct / seen : NaN,
        testLoss: test ? test.lossSum / test.count : null,
        testAccuracy: metrics ? metrics.accuracy : null,
        ...(task === 'regression' && { testMse: metrics?.mse ?? null, testMae: metrics?.mae ?? null, testR2: metrics?.r2 ?? null }),
        ...(task === 'multilabel' && { testF1: metrics?.f1 ?? null }),
        seconds,
        samplesPerSec: seen / seconds,
        lr,
        skippedSteps: skipped,
      };
      run.complete(event);
      if (o.checkpoint && (epoch % o.checkpoint.everyEpochs === 0 || epoch === o.epochs || run.stopReason !== null)) await save();
      options.onEpoch?.(event);
    }
  } catch (err) {
    if (!options.signal?.aborted) throw err;
    run.rewind();
    await save();
    throw new TrainingAbortedError(history('aborted'), written.path, options.signal.reason);
  }
  run.finish();
  return history(run.stopReason ?? 'completed');
}
