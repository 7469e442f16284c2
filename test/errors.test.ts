// Bad input meets a typed error: its class, its stable code and the field that says what or where,
// so that programs (and the CLI) decide without reading the message.
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { load, save } from '../src/api/model-file.js';
import { predictSync } from '../src/api/predict.js';
import { loadCsv } from '../src/data/csv.js';
import { Dataset } from '../src/data/dataset.js';
import { loadIdx } from '../src/data/idx.js';
import { splitDataset } from '../src/data/split.js';
import { DataFormatError, FcnnError, InvalidOptionError, ModelFileError } from '../src/errors.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { createModel } from '../src/nn/model.js';
import { resolveSpec } from '../src/nn/spec.js';
import { resolveOptimizer } from '../src/optim/optimizer.js';
import { train } from '../src/train/trainer.js';
import { randomDataset } from './helpers/api.js';
import { runInProcess } from './helpers/cli.js';
import { idxBytes, tempDir } from './data-fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** What `run` throws or rejects with (fails the test when it does not). */
async function caught(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('InvalidOptionError names the option', () => {
  const cases: [string, () => unknown, string][] = [
    ['a spec with one layer', () => resolveSpec({ layers: [4] }), 'layers'],
    ['an unknown activation', () => resolveSpec({ layers: [4, 2], activation: 'swish' as never }), 'activation'],
    ['a leaky slope of 1', () => resolveSpec({ layers: [4, 2], leakySlope: 1 }), 'leakySlope'],
    ['an optimizer momentum of 1', () => resolveOptimizer({ kind: 'momentum', momentum: 1 }), 'momentum'],
    ['an unknown optimizer', () => resolveOptimizer('rmsprop' as never), 'optimizer'],
    ['zero epochs', () => train(createModel({ layers: [4, 2] }), randomDataset(10, 4, 2, 1), { epochs: 0, workers: 0 }), 'epochs'],
    [
      'a batch of one with BatchNorm',
      () => train(createModel({ layers: [4, 3, 2], norm: 'batch' }), randomDataset(10, 4, 2, 1), { batchSize: 1, workers: 0 }),
      'batchSize',
    ],
    ['data narrower than the model', () => train(createModel({ layers: [5, 2] }), randomDataset(10, 4, 2, 1), { workers: 0 }), 'data'],
    ['a validation split of 1', () => splitDataset(randomDataset(10, 4, 2, 1), { valSplit: 1 }), 'valSplit'],
    ['rows of the wrong width', () => predictSync(createModel({ layers: [4, 2] }), [[1, 2, 3]]), 'inputs'],
  ];
  it.each(cases)('%s', async (_, run, option) => {
    const err = await caught(run);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(err).toBeInstanceOf(FcnnError);
    expect(err).toMatchObject({ name: 'InvalidOptionError', code: 'FCNN_INVALID_OPTION', option });
  });
});

describe('DataFormatError says where in the file', () => {
  it('a CSV cell: file, line and 1-based column', async () => {
    const path = tmp.path('bad.csv');
    writeFileSync(path, 'label,pixel0,pixel1\n1,2,3\n0,x,4\n');
    const err = await caught(() => loadCsv(path));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err).toMatchObject({ code: 'FCNN_DATA_FORMAT', file: path, line: 3, column: 2, offset: 26 });
  });

  it('an IDX magic number: file and byte offset', async () => {
    const images = tmp.path('images.idx');
    const labels = tmp.path('labels.idx');
    const bytes = idxBytes([2, 2, 2], new Uint8Array(8));
    bytes[2] = 0x0d; // float data
    writeFileSync(images, bytes);
    writeFileSync(labels, idxBytes([2], Uint8Array.of(0, 1)));
    const err = await caught(() => loadIdx(images, labels));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err).toMatchObject({ code: 'FCNN_DATA_FORMAT', file: images, offset: 2, line: undefined });
  });

  it('a label outside the classes given: where the label is', async () => {
    const err = await caught(() => new Dataset({ images: new Uint8Array(4), labels: Uint8Array.of(0, 5), count: 2, width: 2, classes: 3, source: 'arrays' }));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err).toMatchObject({ code: 'FCNN_DATA_FORMAT', file: 'arrays', message: 'arrays sample 1: label 5 is outside [0, 3), the classes given' });
  });

  it('an IDX label beyond the model: file and byte offset', async () => {
    const images = tmp.path('fits-images.idx');
    const labels = tmp.path('fits-labels.idx');
    writeFileSync(images, idxBytes([3, 1, 2], new Uint8Array(6)));
    writeFileSync(labels, idxBytes([3], Uint8Array.of(0, 1, 4)));
    const data = await loadIdx(images, labels);
    const err = await caught(() => train(createModel({ layers: [2, 3] }), data, { workers: 0, epochs: 1 }));
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err).toMatchObject({ file: labels, offset: 8 + 2 });
  });

  it('a missing file', async () => {
    const path = tmp.path('absent.csv');
    expect(await caught(() => loadCsv(path))).toMatchObject({ name: 'DataFormatError', file: path });
  });
});

describe('ModelFileError names the file and the tensor', () => {
  it('a missing model file', async () => {
    const path = tmp.path('absent.safetensors');
    const err = await caught(() => load(path));
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err).toMatchObject({ code: 'FCNN_MODEL_FILE', file: path, tensor: undefined });
  });

  it('a tensor whose shape does not fit the spec', async () => {
    const good = tmp.path('good.safetensors');
    await save(createModel({ layers: [3, 2] }), good);
    const bad = tmp.path('bad.safetensors');
    const spec = JSON.stringify(resolveSpec({ layers: [3, 2] }));
    await writeSafetensors(bad, {
      tensors: new Map([
        ['layers.0.weight', { shape: [3, 2], data: new Float32Array(6) }],
        ['layers.0.bias', { shape: [2], data: new Float32Array(2) }],
      ]),
      metadata: { format: 'fcnn/1', spec, training: '{}' },
    });
    const err = await caught(() => load(bad));
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err).toMatchObject({ code: 'FCNN_MODEL_FILE', file: bad, tensor: 'layers.0.weight' });
  });
});

describe('the CLI maps errors to exit codes by class', () => {
  it('a training option the library refuses becomes a usage error naming its flag', async () => {
    const r = await runInProcess(['train', '--workers', '0', '--epochs', '1', '--limit', '200', '--norm', 'batch', '--batch-size', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('fcnn: --batch-size: batchSize must be at least 2 with BatchNorm (one sample has no batch statistics)\n');
  });

  it('a data error exits 1 with its message', async () => {
    const path = tmp.path('cli-bad.csv');
    writeFileSync(path, 'label,pixel0\n1,abc\n');
    const r = await runInProcess(['train', '--workers', '0', '--csv', path, '--layers', '1,2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`fcnn: ${path}: line 2, column 2 (pixel0): non-numeric cell "abc", expected a number\n`);
  });
});
