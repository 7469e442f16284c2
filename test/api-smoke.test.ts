// The package as a user imports it: everything through src/index.ts (what `import … from 'fcnn'`
// resolves to), from arrays to a trained model, its predictions, a saved file and an ONNX graph.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fcnn from '../src/index.js';
import { runOnnx, temporaryDirectory } from './helpers/models.js';

/** The package's runtime exports: a change to the public surface must change this list too. */
const VALUE_EXPORTS = [
  'ACTIVATION_NAMES',
  'DEFAULT_SPEC',
  'DataFormatError',
  'Dataset',
  'EPOCH_METRICS',
  'EngineBusyError',
  'EngineClosedError',
  'FcnnError',
  'INLINE_MAX_ROWS',
  'InvalidOptionError',
  'LOSSES',
  'Model',
  'ModelFileError',
  'NO_NORMALIZATION',
  'NonFiniteError',
  'OUTPUTS',
  'SCALE_TO_UNIT',
  'TASKS',
  'TrainingAbortedError',
  'WorkerFailedError',
  'closeInference',
  'createModel',
  'evaluate',
  'exportOnnx',
  'fitNormalization',
  'gradientCheck',
  'load',
  'loadCsv',
  'loadIdx',
  'loadIdxDirectory',
  'loadMnist',
  'loadTrained',
  'normalizeSplits',
  'predict',
  'predictSync',
  'save',
  'splitDataset',
  'takeFirst',
  'train',
  'trainEvents',
  'writeCsv',
];

let dir: string;
let remove: () => Promise<void>;
beforeAll(async () => ({ dir, remove } = await temporaryDirectory()));
afterAll(async () => {
  await fcnn.closeInference();
  await remove();
});

/** Two classes of 4-pixel images: bright on the left half, or on the right half. */
function arrays(count: number) {
  const images = new Uint8Array(count * 4);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 2;
    const bright = 200 + (i % 50);
    images.set(labels[i] === 0 ? [bright, bright - 20, 10, 30] : [20, 5, bright, bright - 40], i * 4);
  }
  return { images, labels };
}

describe('the public API, through src/index.ts', () => {
  it('exports exactly the documented values, each defined', () => {
    expect(Object.keys(fcnn).sort()).toEqual([...VALUE_EXPORTS].sort());
    // biome-ignore lint/performance/noDynamicNamespaceImportAccess: the test walks the namespace on purpose, to check each export
    for (const name of VALUE_EXPORTS) expect(fcnn[name as keyof typeof fcnn], name).toBeDefined();
  });

  it('trains a model from arrays, predicts, evaluates, saves, loads and exports ONNX', async () => {
    const { images, labels } = arrays(200);
    const data = new fcnn.Dataset({ images, labels, count: 200, width: 4, classes: 2, source: 'halves' });
    const { train: trainSet, validation } = fcnn.splitDataset(data, { valSplit: 0.25, seed: 3 });
    const model = fcnn.createModel({ layers: [4, 8, 2], activation: 'silu' }, { seed: 2 });

    const epochs: number[] = [];
    const history = await fcnn.train(model, trainSet, {
      epochs: 5,
      batchSize: 10,
      optimizer: 'adam',
      lr: 0.02,
      workers: 2,
      evalData: validation!,
      onEpoch: (e) => epochs.push(e.epoch),
    });
    expect(epochs).toEqual([1, 2, 3, 4, 5]);
    expect(history.testAccuracy).toBe(1);

    // Raw pixels, as the data holds them: the model applies the normalization it was trained with.
    const sample = [
      [230, 200, 10, 30],
      [20, 5, 230, 190],
    ];
    const inline = fcnn.predictSync(model, sample);
    expect(Array.from(inline.classes)).toEqual([0, 1]);
    const evaluation = await fcnn.evaluate(model, validation!);
    expect(evaluation.accuracy).toBe(1);

    const file = join(dir, 'halves.safetensors');
    await fcnn.save(model, file);
    const loaded = await fcnn.load(file);
    expect(loaded.spec).toEqual(model.spec);
    expect(Array.from((await fcnn.predict(loaded, sample)).probabilities)).toEqual(Array.from(inline.probabilities));

    const onnx = join(dir, 'halves.onnx');
    await fcnn.exportOnnx(model, onnx);
    const x = Float32Array.from(sample.flat());
    const ran = await runOnnx(onnx, x, 2, 4);
    expect(ran.name).toBe('probabilities');
    ran.data.forEach((p, i) => expect(Math.abs(p - inline.probabilities[i]), `probability ${i}`).toBeLessThan(1e-5));
  });

  it('refuses bad options with the exported error classes', async () => {
    const model = fcnn.createModel({ layers: [4, 2] });
    const data = new fcnn.Dataset({ ...arrays(10), count: 10, width: 4, source: 'tiny' });
    const refusal = await fcnn.train(model, data, { epochs: 1.5, workers: 0 }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(fcnn.InvalidOptionError);
    expect(refusal).toBeInstanceOf(fcnn.FcnnError);
    expect(refusal).toMatchObject({ code: 'FCNN_INVALID_OPTION', option: 'epochs' });
    await expect(fcnn.load(join(dir, 'absent.safetensors'))).rejects.toBeInstanceOf(fcnn.ModelFileError);
  });
});
