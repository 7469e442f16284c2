// The training loop, the same for the serial and the data-parallel engine:
// for each epoch, shuffle; for each minibatch, one gradient and one optimizer step; then evaluate.
import type { ArraysInit } from '../data/arrays.js';
import { Dataset } from '../data/dataset.js';
import { NO_NORMALIZATION } from '../data/normalize.js';
import { applySchema, fitSchema, targetStd } from '../data/schema.js';
import { type World, joinWorld } from '../distributed/mpi.js';
import { averageBuffers, broadcastModel, checkModelsAgree, checkSameRun, failJob, sumOverRanks } from '../distributed/rank.js';
import type { Model } from '../nn/model.js';
import { sharedFloats } from '../nn/model.js';
import { hasFloatTargets } from '../nn/loss.js';
import { updateRule } from '../optim/optimizer.js';
import { learningRate } from '../optim/schedule.js';
import { Random } from '../util/random.js';
import type { TrainingData } from './data.js';
import type { Engine, EngineSetup } from './engine.js';
import { NonFiniteError } from './guard.js';
import { summarizeMetrics } from './metrics.js';
import { type EpochEvent, type ResolvedTrainOptions, type TrainOptions, resolveTrainOptions } from './options.js';
import { Shard, minShardRows } from './parallel/partition.js';
import { SerialEngine, identity } from './serial.js';
import { sharedBuffer } from '../util/shared-memory.js';

export interface TrainHistory {
  epochs: EpochEvent[];
  /** Accuracy on evalData after the last epoch, when given. */
  testAccuracy: number | null;
  seconds: number;
  workers: number;
  skippedSteps: number;
  options: ResolvedTrainOptions;
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
  const o = resolveTrainOptions(model, data, options);
  if (data instanceof Dataset) {
    model.schema = fitSchema(data, options);
    data = applySchema(model.schema, data);
    if (options.evalData instanceof Dataset) options = { ...options, evalData: applySchema(model.schema, options.evalData) };
  } else if (o.workers > 0) {
    data = materialize(data, 'training data');
    if (options.evalData && !(options.evalData instanceof Dataset)) options = { ...options, evalData: materialize(options.evalData, 'evalData') };
  }
  options.signal?.throwIfAborted();
  if (o.distributed !== 'mpi') return run(model, data, o, options);
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
    const history = await run(model, data, o, options, world);
    checkModelsAgree(world, model);
    return history;
  } catch (err) {
    return failJob(world, err);
  }
}

async function run(model: Model, data: TrainingData, o: ResolvedTrainOptions, options: TrainOptions, world?: World): Promise<TrainHistory> {
  const order = new Int32Array(new SharedArrayBuffer(data.count * Int32Array.BYTES_PER_ELEMENT));
  for (let i = 0; i < data.count; i++) order[i] = i;
  const setup: EngineSetup = {
    model,
    data,
    evalData: options.evalData,
    order,
    batchSize: o.batchSize,
    optimizer: o.optimizer,
    optimizerState: Array.from({ length: updateRule(o.optimizer).stateSlabs }, () => sharedFloats(model.layout.paramCount)),
    world,
    precision: o.precision,
  };
  const engine = await createEngine(setup, o.workers);
  try {
    return await loop(engine, setup, o, options);
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

async function loop(engine: Engine, setup: EngineSetup, o: ResolvedTrainOptions, options: TrainOptions): Promise<TrainHistory> {
  const { data, order, world, model } = setup;
  const rng = new Random(o.seed);
  // This rank's part of each batch (the whole batch without MPI): what the engine's outcomes cover.
  const part = new Shard(world?.size ?? 1, world?.rank ?? 0, minShardRows(model.spec));
  const { task } = model.spec;
  const outputs = model.outputs;
  // BatchNorm cannot normalize a batch of one sample: such a final batch is dropped (the shuffle
  // gives that sample its turn in other epochs).
  const dropLast = o.batchNorm && data.count % o.batchSize === 1;
  const stepsPerEpoch = dropLast ? Math.floor(data.count / o.batchSize) : Math.ceil(data.count / o.batchSize);
  const totalSteps = stepsPerEpoch * o.epochs;
  const history: EpochEvent[] = [];
  const started = performance.now();
  const plan = { steps: stepsPerEpoch, lr: new Float64Array(stepsPerEpoch), stopOnNonFinite: o.nonFinite === 'stop' };
  let skippedSteps = 0;

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    options.signal?.throwIfAborted();
    if (o.shuffle) rng.shuffle(order);
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
        skippedSteps++;
        return;
      }
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
      averageBuffers(world, model);
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
    history.push(event);
    options.onEpoch?.(event);
  }
  return {
    epochs: history,
    testAccuracy: history[history.length - 1].testAccuracy,
    seconds: (performance.now() - started) / 1000,
    workers: engine.workers,
    skippedSteps,
    options: o,
    rank: world?.rank ?? 0,
    worldSize: world?.size ?? 1,
    mpiLibrary: world?.library ?? null,
  };
}
