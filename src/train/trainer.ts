// The training loop, the same for the serial and the data-parallel engine:
// for each epoch, shuffle; for each minibatch, one gradient and one optimizer step; then evaluate.
import type { Model } from '../nn/model.js';
import { sharedFloats } from '../nn/model.js';
import { updateRule } from '../optim/optimizer.js';
import { learningRate } from '../optim/schedule.js';
import { Random } from '../util/random.js';
import type { TrainingData } from './data.js';
import type { Engine, EngineSetup } from './engine.js';
import { NonFiniteError } from './guard.js';
import { type EpochEvent, type ResolvedTrainOptions, type TrainOptions, resolveTrainOptions } from './options.js';
import { SerialEngine } from './serial.js';

export interface TrainHistory {
  epochs: EpochEvent[];
  /** Accuracy on evalData after the last epoch, when given. */
  testAccuracy: number | null;
  seconds: number;
  workers: number;
  skippedSteps: number;
  options: ResolvedTrainOptions;
}

export async function train(model: Model, data: TrainingData, options: TrainOptions = {}): Promise<TrainHistory> {
  const o = resolveTrainOptions(model, data, options);
  options.signal?.throwIfAborted();
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
  };
  const engine = await createEngine(setup, o.workers);
  try {
    return await loop(engine, data, order, o, options);
  } finally {
    await engine.close();
  }
}

async function createEngine(setup: EngineSetup, workers: number): Promise<Engine> {
  if (workers === 0) return new SerialEngine(setup);
  const { DataParallelEngine } = await import('./parallel/engine.js');
  return DataParallelEngine.create(setup, workers);
}

async function loop(
  engine: Engine, data: TrainingData, order: Int32Array, o: ResolvedTrainOptions, options: TrainOptions,
): Promise<TrainHistory> {
  const rng = new Random(o.seed);
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
      lossSum += out.lossSum;
      correct += out.correct;
      seen += count;
      options.onStep?.({
        event: 'step',
        epoch,
        step: s + 1,
        stepsPerEpoch,
        loss: out.lossSum / count,
        samples: seen,
        samplesPerSec: seen / ((performance.now() - epochStart) / 1000),
        lr: plan.lr[s],
      });
    });
    const lr = plan.lr[stepsPerEpoch - 1];
    const seconds = (performance.now() - epochStart) / 1000;
    options.signal?.throwIfAborted();
    const test = options.evalData ? await engine.evaluate() : null;
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
  };
}
