// The training loop, the same for the serial and the data-parallel engine:
// for each epoch, shuffle; for each minibatch, one gradient and one optimizer step; then evaluate.
import { type World, joinWorld } from '../distributed/mpi.js';
import { averageBuffers, broadcastModel, checkModelsAgree, checkSameRun, failJob, sumOverRanks } from '../distributed/rank.js';
import type { Model } from '../nn/model.js';
import { sharedFloats } from '../nn/model.js';
import { updateRule } from '../optim/optimizer.js';
import { learningRate } from '../optim/schedule.js';
import { Random } from '../util/random.js';
import type { TrainingData } from './data.js';
import type { Engine, EngineSetup } from './engine.js';
import { NonFiniteError } from './guard.js';
import { type EpochEvent, type ResolvedTrainOptions, type TrainOptions, resolveTrainOptions } from './options.js';
import { Shard, minShardRows } from './parallel/partition.js';
import { SerialEngine } from './serial.js';

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
 * Trains the model on the data. With distributed: 'mpi', every rank of the job calls it with the
 * same data and options; an error on any rank is printed with its rank and ends the whole job
 * (MPI_Abort), since the other ranks would otherwise wait for it forever.
 */
export async function train(model: Model, data: TrainingData, options: TrainOptions = {}): Promise<TrainHistory> {
  const o = resolveTrainOptions(model, data, options);
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
      const [testLoss, testCorrect, count] = sumOverRanks(world, Float64Array.of(test.lossSum, test.correct, test.count));
      test = { lossSum: testLoss, correct: testCorrect, count };
    }
    const event: EpochEvent = {
      event: 'epoch',
      epoch,
      loss: seen ? lossSum / seen : NaN,
      trainAccuracy: seen ? correct / seen : NaN,
      testLoss: test ? test.lossSum / test.count : null,
      testAccuracy: test ? test.correct / test.count : null,
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
