// Training on each task end to end: regression on float features (standardized inputs and targets,
// compared with a least-squares fit), multi-label with binary cross-entropy, class names from
// strings, and a TrainingData that is not a Dataset on the data-parallel engine.
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate } from '../src/api/evaluate.js';
import { closeInference } from '../src/api/inference-pool.js';
import { predict, predictSync } from '../src/api/predict.js';
import { Dataset } from '../src/data/dataset.js';
import { splitDataset } from '../src/data/split.js';
import { createModel } from '../src/nn/model.js';
import type { TrainingData } from '../src/train/data.js';
import { train } from '../src/train/trainer.js';
import { Random } from '../src/util/random.js';
import { floatDataset } from './helpers/datasets.js';
import { leastSquares } from './helpers/least-squares.js';

afterAll(() => closeInference());

/** R² of predictions p against targets y (one output). */
function rSquared(p: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i] / n;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    sse += (p[i] - y[i]) ** 2;
    sst += (y[i] - mean) ** 2;
  }
  return 1 - sse / sst;
}

describe('regression', () => {
  it('learns targets around 150 from float features around 50, reported in the targets’ units', async () => {
    const data = floatDataset(1200, 8, 1, 21, 'regression');
    const { train: trainSet, validation } = splitDataset(data, { valSplit: 0.25, seed: 1 });
    const model = createModel({ layers: [8, 32, 1], output: 'linear', task: 'regression' }, { seed: 2 });
    const history = await train(model, trainSet, {
      epochs: 60,
      batchSize: 32,
      optimizer: 'adam',
      lr: 0.01,
      schedule: 'cosine',
      workers: 0,
      evalData: validation!,
    });
    const last = history.epochs.at(-1)!;
    expect(last.trainAccuracy).toBeNull();
    const p = await predict(model, validation!.images as Float32Array);
    const r2 = rSquared(p.probabilities, validation!.targets!);
    const ls = rSquared(leastSquares(trainSet.images, trainSet.targets!, 8, validation!.images), validation!.targets!);
    // The data is linear plus noise: least squares is the best there is; the network comes close.
    expect(ls).toBeGreaterThan(0.99);
    expect(r2, `R² on the held-out split: network ${r2.toFixed(4)}, least squares ${ls.toFixed(4)}`).toBeGreaterThan(ls - 0.01);
    expect(last.testR2!).toBeCloseTo(r2, 4);
    const ev = await evaluate(model, validation!);
    expect(ev.metrics.r2!).toBeCloseTo(r2, 4);
    expect(ev.metrics.mse!).toBeCloseTo(last.testMse!, 3);
    expect(ev.metrics.mae!).toBeGreaterThan(0);
    expect(ev.metrics.mae!).toBeLessThan(Math.sqrt(ev.metrics.mse!) * 1.01);
  }, 60_000);

  it('without target standardization trains on the raw targets (and stores no target scaling)', async () => {
    const data = floatDataset(200, 4, 2, 22, 'regression');
    const model = createModel({ layers: [4, 8, 2], output: 'linear', task: 'regression' }, { seed: 2 });
    await train(model, data, { epochs: 1, workers: 0, targetNormalize: 'none', optimizer: 'adam', lr: 1e-3 });
    expect(model.schema.targetNormalization).toBeNull();
    const standardized = createModel({ layers: [4, 8, 2], output: 'linear', task: 'regression' }, { seed: 2 });
    await train(standardized, data, { epochs: 1, workers: 0 });
    expect(Array.from(standardized.schema.targetNormalization!.mean!).every((m) => Math.abs(m - 150) < 30)).toBe(true);
  });

  it('stops early on its own metrics, and refuses a metric it does not report', async () => {
    const data = floatDataset(200, 4, 1, 25, 'regression');
    const { train: trainSet, validation } = splitDataset(data, { valSplit: 0.25, seed: 3 });
    const model = () => createModel({ layers: [4, 8, 1], output: 'linear', task: 'regression' }, { seed: 2 });
    const options = { epochs: 60, workers: 0, optimizer: 'adam' as const, lr: 0.01, evalData: validation! };
    const history = await train(model(), trainSet, { ...options, earlyStopping: { monitor: 'testR2', patience: 2, minDelta: 0.5 } });
    expect(history.stopReason).toBe('early-stopping');
    // Stopped two epochs after the last that raised R² by more than minDelta.
    expect(history.epochs).toHaveLength(history.bestEpoch! + 2);
    expect(history.epochs.every((e) => Number.isFinite(e.testR2))).toBe(true);
    await expect(train(model(), trainSet, { ...options, earlyStopping: { monitor: 'testAccuracy' } })).rejects.toMatchObject({
      name: 'InvalidOptionError',
      option: 'earlyStopping',
      message: expect.stringMatching(/"testAccuracy" is not measured for a regression model \(its metrics: loss, testLoss, testMse, testMae, testR2\)/),
    });
  });
});

describe('multi-label', () => {
  it('trains sigmoid outputs with binary cross-entropy and reports per-label accuracy and F1', async () => {
    const data = floatDataset(800, 6, 3, 23, 'multilabel');
    const { train: trainSet, validation } = splitDataset(data, { valSplit: 0.25, seed: 2 });
    const model = createModel({ layers: [6, 24, 3], output: 'sigmoid', task: 'multilabel' }, { seed: 4 });
    const history = await train(model, trainSet, { epochs: 30, batchSize: 32, optimizer: 'adam', lr: 0.01, workers: 0, evalData: validation! });
    const last = history.epochs.at(-1)!;
    expect(last.testF1!).toBeGreaterThan(0.9);
    expect(last.testAccuracy!).toBeGreaterThan(0.9);
    expect(history.epochs[0].loss).toBeGreaterThan(last.loss);
    const ev = await evaluate(model, validation!);
    expect(ev.metrics.perLabel).toHaveLength(3);
    expect(ev.metrics.f1!).toBeCloseTo(last.testF1!, 6);
    const p = predictSync(model, validation!.images as Float32Array);
    expect(p.probabilities.every((v) => v >= 0 && v <= 1)).toBe(true);
  }, 60_000);
});

describe('class names', () => {
  it('trains on string labels and predicts their names', async () => {
    const rng = new Random(5);
    const names = ['bolt', 'nut', 'washer'];
    const x: number[][] = [];
    const y: string[] = [];
    for (let i = 0; i < 300; i++) {
      const c = i % 3;
      x.push([c * 10 + rng.normal(), 5 - c * 3 + rng.normal()]);
      y.push(names[c]);
    }
    const model = createModel({ layers: [2, 16, 3] }, { seed: 1 });
    await train(model, { x, y }, { epochs: 20, batchSize: 16, optimizer: 'adam', lr: 0.01, workers: 0 });
    expect(model.schema.classNames).toEqual(names);
    expect(model.schema.normalizationKind).toBe('standardize');
    const p = predictSync(model, [
      [0, 5],
      [10, 2],
      [20, -1],
    ]);
    expect(p.classNames).toEqual(names);
  }, 30_000);
});

describe('a TrainingData that is not a Dataset', () => {
  it('trains on the data-parallel engine like on the serial one (gathered once into shared memory)', async () => {
    const source = floatDataset(120, 5, 2, 24, 'regression');
    // A caller's own gather: the rows as they are, targets scaled by hand.
    const custom: TrainingData = {
      count: 120,
      width: 5,
      classes: 2,
      task: 'regression',
      gather(order, start, count, x, y) {
        for (let r = 0; r < count; r++) {
          const i = order[start + r];
          for (let j = 0; j < 5; j++) x[r * 5 + j] = (source.images[i * 5 + j] - 50) / 20;
          for (let k = 0; k < 2; k++) (y as Float32Array)[r * 2 + k] = (source.targets![i * 2 + k] - 150) / 10;
        }
      },
    };
    const run = async (workers: number) => {
      const model = createModel({ layers: [5, 8, 2], output: 'linear', task: 'regression' }, { seed: 6 });
      await train(model, custom, { epochs: 2, batchSize: 12, optimizer: 'sgd', lr: 0.05, workers });
      return model.params;
    };
    const serial = await run(0);
    expect(await run(1)).toEqual(serial);
  }, 30_000);

  it('refuses targets of the wrong task for the model', async () => {
    const data = Dataset.fromArrays({ x: [[1], [2]], y: [0.5, 1.5] });
    await expect(train(createModel({ layers: [1, 2] }), data, { workers: 0 })).rejects.toThrow(
      /holds regression targets but the model's task is classification/,
    );
    await expect(train(createModel({ layers: [1, 3], output: 'linear', task: 'regression' }), data, { workers: 0 })).rejects.toThrow(
      /1 target values per sample but the model has 3 outputs/,
    );
  });
});
