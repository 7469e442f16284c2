// The user's exact network (PRESETS.seed) on the real MNIST: it must train, not blow up.
import { describe, expect, it } from 'vitest';
import { loadMnist, splitDataset } from '../src/data/index.js';
import { createModel } from '../src/nn/model.js';
import { PRESETS } from '../src/train/presets.js';
import { train } from '../src/train/trainer.js';

describe("the user's seed network", () => {
  it('784-128-10, U(-0.5, 0.5), ReLU, sigmoid(0.01·x), MSE, full-batch GD on 31500 images: finite, loss falls, far above chance after 50 epochs', async () => {
    const preset = PRESETS.seed;
    const { train: all } = await loadMnist();
    const { train: trainSet, validation } = splitDataset(all, { valSplit: preset.data.valSplit, limit: preset.data.limit, seed: 1 });
    expect(trainSet.count).toBe(31500);
    expect(validation!.count).toBe(10500);
    const model = createModel(preset.model, { init: preset.init, seed: 1 });
    const history = await train(model, trainSet, { ...preset.train, workers: 0, evalData: validation! });
    expect(history.epochs).toHaveLength(50);
    expect(history.skippedSteps).toBe(0);
    for (const e of history.epochs) expect(Number.isFinite(e.loss)).toBe(true);
    expect(model.params.every(Number.isFinite)).toBe(true);
    expect(history.epochs[49].loss).toBeLessThan(history.epochs[0].loss * 0.5);
    expect(history.testAccuracy!).toBeGreaterThan(0.6); // chance is 0.1
  }, 180_000);
});
