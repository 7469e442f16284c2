// The data-parallel trainer computes the same training as the serial one: same batches, same mean
// gradients, same updates. Worker threads run dist/, which test/global-setup.ts compiles.
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../src/data/dataset.js';
import { createModel } from '../src/nn/model.js';
import type { ModelSpec } from '../src/nn/spec.js';
import type { TrainOptions } from '../src/train/options.js';
import { train } from '../src/train/trainer.js';
import { blobDataset, floatDataset } from './helpers/datasets.js';
import { relativeError } from './helpers/models.js';

// 103 samples: with batch 10 that is 10 full batches (10 is divisible by neither 3 nor 4) and a
// final batch of 3, fewer rows than 4 workers (an empty shard); full batch is 103 rows.
const data = blobDataset(103, 12, 3, 1);
// Full batch of 2100 rows, run in training chunks (TRAIN_CHUNK) by the serial engine, and by each of
// 2 workers (shards of 1050 rows), who then sum their slots.
const large = blobDataset(2100, 12, 3, 4);
// Float features (standardized in the model) with float targets: regression values around 150
// (standardized in the model too) and multi-label 0/1 rows.
const regression = floatDataset(103, 12, 2, 5, 'regression');
const multilabel = floatDataset(103, 12, 4, 6, 'multilabel');

async function trained(spec: Partial<ModelSpec> & { layers: number[] }, workers: number, options: TrainOptions, on: Dataset = data) {
  const model = createModel(spec, { seed: 2 });
  const history = await train(model, on, { ...options, workers, evalData: on });
  return { model, history };
}

const TOLERANCE = 1e-4;

/** Each case's workers sum their shards' gradients over the slots: within TOLERANCE of the serial parameters. */
const cases: { name: string; spec: Partial<ModelSpec> & { layers: number[] }; options: TrainOptions; data?: typeof data }[] = [
  { name: 'minibatch SGD', spec: { layers: [12, 16, 16, 3] }, options: { epochs: 2, batchSize: 10, optimizer: 'sgd', lr: 0.1 } },
  { name: 'full-batch gradient descent', spec: { layers: [12, 16, 16, 3] }, options: { epochs: 8, batchSize: 'full', optimizer: 'sgd', lr: 0.5 } },
  { name: 'minibatch SGD, one hidden layer', spec: { layers: [12, 16, 3] }, options: { epochs: 2, batchSize: 10, optimizer: 'sgd', lr: 0.1 } },
  { name: 'minibatch Adam', spec: { layers: [12, 64, 48, 3] }, options: { epochs: 2, batchSize: 10, optimizer: 'adam', lr: 0.01 } },
  {
    name: 'minibatch momentum, tanh and LayerNorm',
    spec: { layers: [12, 16, 16, 3], activation: 'tanh', norm: 'layer' },
    options: { epochs: 2, batchSize: 10, optimizer: 'momentum', lr: 0.05 },
  },
  { name: 'full batch in chunks', spec: { layers: [12, 16, 16, 3] }, options: { epochs: 3, batchSize: 'full', optimizer: 'sgd', lr: 0.5 }, data: large },
  {
    name: 'float features, regression (linear, MSE)',
    spec: { layers: [12, 16, 2], output: 'linear', task: 'regression' },
    options: { epochs: 2, batchSize: 10, optimizer: 'adam', lr: 0.01 },
    data: regression,
  },
  {
    name: 'float features, multi-label (sigmoid, BCE)',
    spec: { layers: [12, 16, 4], output: 'sigmoid', task: 'multilabel' },
    options: { epochs: 2, batchSize: 10, optimizer: 'momentum', lr: 0.05 },
    data: multilabel,
  },
];

describe('data-parallel trainer against the serial trainer', () => {
  for (const c of cases) {
    it(`${c.name}: 1 to 4 workers give the serial parameters, losses and accuracies`, async () => {
      const serial = await trained(c.spec, 0, c.options, c.data);
      for (const workers of [1, 2, 3, 4]) {
        const parallel = await trained(c.spec, workers, c.options, c.data);
        expect(parallel.history.workers).toBe(workers);
        const error = relativeError(parallel.model.params, serial.model.params);
        // One worker runs the serial engine's kernels on the same rows: bit-identical.
        if (workers === 1) expect(parallel.model.params).toEqual(serial.model.params);
        else expect(error).toBeLessThan(TOLERANCE);
        parallel.history.epochs.forEach((e, i) => {
          const s = serial.history.epochs[i];
          expect(e.loss).toBeCloseTo(s.loss, 5);
          expect(e.trainAccuracy).toBe(s.trainAccuracy);
          expect(e.testLoss!).toBeCloseTo(s.testLoss!, 5);
          expect(e.testAccuracy).toBe(s.testAccuracy);
          for (const metric of ['testMse', 'testMae', 'testR2', 'testF1'] as const) {
            expect(metric in e).toBe(metric in s);
            if (e[metric] !== undefined) expect(e[metric]!).toBeCloseTo(s[metric]!, 4);
          }
        });
      }
    });
  }

  it('BatchNorm with one worker: bit-identical parameters and running statistics', async () => {
    const spec = { layers: [12, 16, 8, 3], norm: 'batch' as const };
    const options: TrainOptions = { epochs: 2, batchSize: 10, optimizer: 'adam', lr: 0.01 };
    const serial = await trained(spec, 0, options);
    const parallel = await trained(spec, 1, options);
    expect(parallel.model.params).toEqual(serial.model.params);
    expect(parallel.model.buffers).toEqual(serial.model.buffers);
    expect(parallel.history.epochs.map((e) => e.testLoss)).toEqual(serial.history.epochs.map((e) => e.testLoss));
  });
});
