import { describe, expect, it } from 'vitest';
import { createModel } from '../src/nn/model.js';
import { NonFiniteError } from '../src/errors.js';
import { train } from '../src/train/trainer.js';
import { arrayData, blobs } from './helpers/arrays.js';

describe('serial trainer', () => {
  it('a fresh 10-class softmax network starts near ln 10', async () => {
    const data = blobs(500, 50, 10, 1);
    const model = createModel({ layers: [50, 64, 10] }, { seed: 2, init: 'glorot' });
    const history = await train(model, data, { epochs: 1, workers: 0, lr: 1e-9, optimizer: 'sgd', evalData: data });
    expect(Math.abs(history.epochs[0].testLoss! - Math.log(10))).toBeLessThan(0.25);
  });

  it('overfits 20 samples to near-zero loss', async () => {
    const data = blobs(20, 30, 10, 3, 3);
    const model = createModel({ layers: [30, 64, 10] }, { seed: 4 });
    const history = await train(model, data, {
      epochs: 300,
      batchSize: 'full',
      optimizer: 'adam',
      lr: 0.01,
      workers: 0,
      evalData: data,
    });
    const last = history.epochs[history.epochs.length - 1];
    expect(last.testLoss!).toBeLessThan(0.01);
    expect(last.testAccuracy).toBe(1);
  });

  it('learns separable blobs with every optimizer, and the loss falls', async () => {
    const data = blobs(600, 20, 4, 5, 1);
    for (const optimizer of ['sgd', 'momentum', 'adam', 'adamw'] as const) {
      const model = createModel({ layers: [20, 16, 4] }, { seed: 6 });
      const lr = optimizer.startsWith('adam') ? 0.01 : undefined; // 95 steps: Adam's 1e-3 default is too timid here
      const history = await train(model, data, { epochs: 5, batchSize: 32, optimizer, lr, workers: 0, evalData: data });
      expect(history.epochs[4].loss).toBeLessThan(history.epochs[0].loss);
      expect(history.testAccuracy!).toBeGreaterThan(0.95);
    }
  });

  it('the same seed gives bit-identical parameters twice', async () => {
    const data = blobs(300, 12, 3, 7);
    const run = async () => {
      const model = createModel({ layers: [12, 10, 3], norm: 'batch' }, { seed: 8 });
      await train(model, data, { epochs: 3, batchSize: 25, seed: 9, optimizer: 'adam', workers: 0 });
      return model;
    };
    const a = await run();
    const b = await run();
    expect(Buffer.from(a.params.buffer).equals(Buffer.from(b.params.buffer))).toBe(true);
    expect(Buffer.from(a.buffers.buffer).equals(Buffer.from(b.buffers.buffer))).toBe(true);
  });

  it('stops on a non-finite pre-activation and names the epoch, step and layer', async () => {
    const good = blobs(64, 8, 2, 10);
    const x = good.x.slice();
    x[40 * 8 + 3] = NaN; // sample 40 lands in the second batch of 32 (no shuffle)
    const data = arrayData(x, good.labels, 8, 2);
    const model = createModel({ layers: [8, 6, 2] }, { seed: 1 });
    const run = train(model, data, { epochs: 1, batchSize: 32, shuffle: false, workers: 0 });
    await expect(run).rejects.toThrow(NonFiniteError);
    await expect(train(model, data, { epochs: 1, batchSize: 32, shuffle: false, workers: 0 })).rejects.toThrow(
      /^epoch 1 step 2: layer 1 pre-activation is not finite \(6 NaN\/Inf values; max finite \|z\| = /,
    );
  });

  it('with nonFinite: skip, skips the bad step, counts it and keeps the parameters finite', async () => {
    const good = blobs(64, 8, 2, 10);
    const x = good.x.slice();
    x[40 * 8 + 3] = Infinity;
    const model = createModel({ layers: [8, 6, 2] }, { seed: 1 });
    const history = await train(model, arrayData(x, good.labels, 8, 2), {
      epochs: 2,
      batchSize: 32,
      shuffle: false,
      workers: 0,
      nonFinite: 'skip',
    });
    expect(history.skippedSteps).toBe(2);
    expect(history.epochs.map((e) => e.skippedSteps)).toEqual([1, 1]);
    expect(model.params.every(Number.isFinite)).toBe(true);
  });

  it('a diverging learning rate is caught as a non-finite value, not trained on', async () => {
    const data = blobs(64, 8, 2, 11, 1);
    const model = createModel({ layers: [8, 6, 2], output: 'linear' }, { seed: 1 });
    await expect(train(model, data, { epochs: 50, optimizer: 'sgd', lr: 1e4, workers: 0 })).rejects.toThrow(/is not finite/);
  });

  it('drops a final batch of one sample when training BatchNorm', async () => {
    const data = blobs(65, 6, 2, 13);
    const model = createModel({ layers: [6, 5, 2], norm: 'batch' }, { seed: 1 });
    const steps: number[] = [];
    await train(model, data, { epochs: 1, batchSize: 32, workers: 0, onStep: (e) => steps.push(e.samples) });
    expect(steps).toEqual([32, 64]);
    await expect(train(model, data, { batchSize: 1, workers: 0 })).rejects.toThrow(/at least 2 with BatchNorm/);
  });

  it('refuses options that cannot be right, naming the option', async () => {
    const data = blobs(10, 4, 2, 1);
    const model = createModel({ layers: [4, 3, 2] });
    await expect(train(model, data, { lr: -1, workers: 0 })).rejects.toThrow(/lr must be a positive number/);
    await expect(train(model, data, { epochs: 0, workers: 0 })).rejects.toThrow(/epochs/);
    await expect(train(model, data, { batchSize: 0, workers: 0 })).rejects.toThrow(/batchSize/);
    await expect(train(model, data, { loss: 'mse', workers: 0 })).rejects.toThrow(/mse/);
    await expect(train(createModel({ layers: [5, 3, 2] }), data, { workers: 0 })).rejects.toThrow(/input width is 5/);
    await expect(train(createModel({ layers: [4, 3, 1] }), data, { workers: 0 })).rejects.toThrow(/only 1 outputs/);
  });

  it('aborts at a step boundary with an AbortError', async () => {
    const data = blobs(2000, 20, 4, 12);
    const model = createModel({ layers: [20, 16, 4] });
    const controller = new AbortController();
    const run = train(model, data, {
      epochs: 100,
      batchSize: 8,
      workers: 0,
      onStep: (e) => {
        if (e.step === 5) controller.abort();
      },
      signal: controller.signal,
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });
});
