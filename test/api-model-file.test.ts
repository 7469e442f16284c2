import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeInference } from '../src/api/inference-pool.js';
import { exportOnnx, load, loadTrained, save } from '../src/api/model-file.js';
import { predict } from '../src/api/predict.js';
import { loadModel, saveModel } from '../src/io/fcnn-format.js';
import { createModel } from '../src/nn/model.js';
import { train } from '../src/train/trainer.js';
import { randomDataset, smallMnistModel } from './helpers/api.js';
import { floatDataset } from './helpers/datasets.js';
import { expectClose, runOnnx, temporaryDirectory } from './helpers/models.js';

let dir: string;
let remove: () => Promise<void>;
beforeAll(async () => ({ dir, remove } = await temporaryDirectory()));
afterAll(async () => {
  await closeInference();
  await remove();
});

describe('save and load', () => {
  it('give back the same spec, parameters and BatchNorm statistics, and the same predictions', async () => {
    const data = randomDataset(400, 10, 3, 2);
    const spec = { layers: [10, 8, 3], norm: 'batch', activation: 'leaky_relu', leakySlope: 0.1 } as const;
    const model = createModel({ ...spec, layers: [...spec.layers] }, { seed: 4 });
    const history = await train(model, data, { epochs: 2, batchSize: 50, workers: 0 });
    const path = join(dir, 'model.safetensors');
    await save(model, path, { training: history });

    const loaded = await load(path);
    expect(loaded.spec).toEqual(model.spec);
    expect(Array.from(loaded.params)).toEqual(Array.from(model.params));
    expect(Array.from(loaded.buffers)).toEqual(Array.from(model.buffers));
    const untrained = createModel({ ...spec, layers: [...spec.layers] }, { seed: 4 });
    expect(Array.from(model.buffers)).not.toEqual(Array.from(untrained.buffers)); // the running statistics moved
    expect(loaded.params.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(loaded.buffers.buffer).toBeInstanceOf(SharedArrayBuffer);

    for (const inline of [true, false]) {
      const before = await predict(model, data, { inline });
      const after = await predict(loaded, data, { inline });
      expect(Array.from(after.probabilities)).toEqual(Array.from(before.probabilities));
      expect(Array.from(after.classes)).toEqual(Array.from(before.classes));
    }
    expect((await loadModel(path)).training).toEqual(JSON.parse(JSON.stringify(history)));
  });

  it("keep the model's schema: input normalization (standardize statistics included), target scaling, names", async () => {
    const model = createModel({ layers: [3, 2], output: 'linear', task: 'regression' });
    const normalization = { scale: 1 / 255, mean: Float32Array.of(0.1, 0.2, 0.3), invStd: Float32Array.of(2, 3, 4) };
    const targetNormalization = { scale: 1, mean: Float32Array.of(150, -2), invStd: Float32Array.of(0.1, 4) };
    model.schema = { normalization, normalizationKind: 'standardize', targetNormalization, classNames: null, targetNames: ['price', 'delta'] };
    const path = join(dir, 'normalized.safetensors');
    await save(model, path, { training: { note: 'kept' } });
    const trained = await loadTrained(path);
    expect(trained.normalizationKind).toBe('standardize');
    expect(trained.normalization.scale).toBe(1 / 255);
    expect(Array.from(trained.normalization.mean!)).toEqual(Array.from(normalization.mean));
    expect(Array.from(trained.normalization.invStd!)).toEqual(Array.from(normalization.invStd));
    expect(trained.model.schema.targetNormalization).toEqual(targetNormalization);
    expect(trained.model.schema.targetNames).toEqual(['price', 'delta']);
    expect(trained.training.note).toBe('kept');
    const plain = join(dir, 'plain.safetensors');
    await save(createModel({ layers: [3, 2] }), plain);
    expect((await loadTrained(plain)).normalization).toEqual({ scale: 1 / 255 });
  });

  it('load a file written before models carried a schema: the normalization in its training record, or ÷255', async () => {
    const model = createModel({ layers: [3, 2] });
    const old = join(dir, 'old.safetensors');
    // The metadata shape of those files: no schema key, the normalization inside training.
    const normalization = { kind: 'standardize', scale: 1 / 255, mean: [0.1, 0.2, 0.3], invStd: [2, 3, 4] };
    await saveModel(old, { spec: model.spec, params: model.params, buffers: model.buffers, training: { normalization } });
    const trained = await loadTrained(old);
    expect(trained.normalizationKind).toBe('standardize');
    expect(Array.from(trained.model.schema.normalization.invStd!)).toEqual([2, 3, 4]);
    expect(trained.model.schema.targetNormalization).toBeNull();
    const older = join(dir, 'older.safetensors');
    await saveModel(older, { spec: model.spec, params: model.params, buffers: model.buffers, training: {} });
    expect((await loadTrained(older)).model.schema.normalization).toEqual({ scale: 1 / 255 });
  });

  it('refuses to save over a path it cannot write, and load names a missing file', async () => {
    const model = createModel({ layers: [4, 2] });
    await expect(save(model, join(dir, 'no-such-dir', 'm.safetensors'))).rejects.toThrow();
    await expect(load(join(dir, 'missing.safetensors'))).rejects.toThrow(/missing\.safetensors/);
  });
});

describe('exportOnnx', () => {
  it('runs in ONNX Runtime on raw pixels with outputs within 1e-5 of predict on 1000 MNIST test images', async () => {
    const { model, test } = await smallMnistModel(1000);
    const path = join(dir, 'mnist.onnx');
    await exportOnnx(model, path);
    const onnx = await runOnnx(path, Float32Array.from(test.images), 1000, 784);
    expect(onnx.dims).toEqual([1000, 10]);
    const ours = await predict(model, test);
    expectClose(onnx.data, ours.probabilities, 1e-5);
  }, 30_000);

  it('puts standardization and the regression target scaling in the graph: raw rows in, target units out', async () => {
    const data = floatDataset(200, 5, 2, 9, 'regression');
    const model = createModel({ layers: [5, 8, 2], output: 'linear', task: 'regression' }, { seed: 3 });
    await train(model, data, { epochs: 3, batchSize: 20, optimizer: 'adam', lr: 0.01, workers: 0 });
    expect(model.schema.normalizationKind).toBe('standardize');
    expect(model.schema.targetNormalization).not.toBeNull();
    const path = join(dir, 'regression.onnx');
    await exportOnnx(model, path);
    const raw = Float32Array.from(data.images); // ONNX Runtime takes no SharedArrayBuffer
    const onnx = await runOnnx(path, raw, 200, 5);
    expect(onnx.dims).toEqual([200, 2]);
    const ours = await predict(model, raw);
    expect(Math.abs(ours.probabilities[0] - 150)).toBeLessThan(100); // in the targets' units
    expectClose(onnx.data, ours.probabilities, 1e-5);
  }, 30_000);
});
