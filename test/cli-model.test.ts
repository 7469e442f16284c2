// A model saved by fcnn train --save, then used by eval, predict and export: the numbers must
// agree with the training run and with each other, and the inputs must be normalized as in training.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mnistDirectory } from '../src/data/mnist.js';
import { jsonLines, runCli } from './helpers/cli.js';
import { expectClose, runOnnx } from './helpers/models.js';

const images = join(mnistDirectory(), 't10k-images-idx3-ubyte');
const labelsFile = join(mnistDirectory(), 't10k-labels-idx1-ubyte');

interface Evaluation {
  event: string;
  set: string;
  accuracy: number;
  count: number;
  confusion: number[][];
  perClass: { precision: number; recall: number; support: number }[];
}

interface Prediction {
  sample: number;
  predicted: number;
  probabilities: number[];
  label?: number;
  inverted?: boolean;
}

describe('a saved model', () => {
  let dir: string;
  let model: string;
  let trainedAccuracy: number;
  let pixels: Buffer;
  let labels: Buffer;
  let idxPredictions: Prediction[];
  let evaluation: Evaluation;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fcnn-model-'));
    model = join(dir, 'm.safetensors');
    const r = await runCli(['train', '--json', '--limit', '10000', '--epochs', '2', '--workers', '0', '--save', model]);
    expect(r.code).toBe(0);
    trainedAccuracy = jsonLines(r.stdout).at(-1)!.testAccuracy as number;
    pixels = (await readFile(images)).subarray(16);
    labels = (await readFile(labelsFile)).subarray(8);
    const p = await runCli(['predict', '--model', model, '--input', images, '--labels', labelsFile, '--json']);
    expect(p.code).toBe(0);
    idxPredictions = jsonLines(p.stdout) as unknown as Prediction[];
    const e = await runCli(['eval', '--model', model, '--json']);
    expect(e.code).toBe(0);
    evaluation = jsonLines(e.stdout)[0] as unknown as Evaluation;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('eval reproduces the accuracy measured at the end of training, with a consistent confusion matrix', async () => {
    const e = evaluation;
    expect(e.event).toBe('eval');
    expect(e.set).toBe('test');
    expect(e.count).toBe(10000);
    // The same 10000 images through the same weights (chunked differently, so allow a sample or two).
    expect(Math.abs(e.accuracy - trainedAccuracy)).toBeLessThanOrEqual(2e-4);
    const perLabel = new Array<number>(10).fill(0);
    for (const l of labels) perLabel[l]++;
    expect(e.confusion.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(perLabel);
    e.perClass.forEach((c, k) => {
      const predictedAsK = e.confusion.reduce((a, row) => a + row[k], 0);
      expect(c.support).toBe(perLabel[k]);
      expect(c.recall).toBeCloseTo(e.confusion[k][k] / perLabel[k], 12);
      expect(c.precision).toBeCloseTo(e.confusion[k][k] / predictedAsK, 12);
    });
    expect(e.accuracy).toBeCloseTo(e.confusion.reduce((a, row, k) => a + row[k], 0) / 10000, 12);

    const text = await runCli(['eval', '--model', model]);
    expect(text.stdout).toMatch(/^loss \d+\.\d{4} {2}accuracy \d+\.\d\d% \(\d+\/10000\)$/m);
    expect(text.stdout).toMatch(/^confusion matrix \(rows: true class, columns: predicted\)$/m);
  });

  it('predict on IDX images: one event per sample, probabilities that sum to 1, the accuracy of eval', async () => {
    expect(idxPredictions).toHaveLength(10000);
    let correct = 0;
    // Counted first, asserted once: ten thousand expect() calls would dominate the test's time.
    const wrong = idxPredictions.filter(
      (p, i) =>
        p.sample !== i ||
        p.label !== labels[i] ||
        p.probabilities.length !== 10 ||
        Math.abs(p.probabilities.reduce((a, b) => a + b, 0) - 1) > 1e-5 ||
        p.predicted !== p.probabilities.indexOf(Math.max(...p.probabilities)),
    );
    expect(wrong).toEqual([]);
    for (const p of idxPredictions) if (p.predicted === p.label) correct++;
    expect(correct / 10000).toBe(evaluation.accuracy);
  });

  it('predict on a CSV of the same pixels gives the same outputs', async () => {
    const rows = 20;
    const header = ['label', ...Array.from({ length: 784 }, (_, j) => `pixel${j}`)].join(',');
    const lines = Array.from({ length: rows }, (_, r) => [labels[r], ...pixels.subarray(r * 784, (r + 1) * 784)].join(','));
    const csv = join(dir, 'first20.csv');
    await writeFile(csv, `${header}\n${lines.join('\n')}\n`);
    const r = await runCli(['predict', '--model', model, '--input', csv, '--json']);
    expect(r.code).toBe(0);
    const predictions = jsonLines(r.stdout) as unknown as Prediction[];
    expect(predictions).toHaveLength(rows);
    predictions.forEach((p, i) => {
      expect(p.label).toBe(labels[i]);
      expect(p.predicted).toBe(idxPredictions[i].predicted);
      expectClose(p.probabilities, idxPredictions[i].probabilities, 1e-5);
    });
  });

  it('predict on pictures: dark-on-light ones are inverted and say so; the digit is recognized either way', async () => {
    const sample = idxPredictions.findIndex((p) => p.predicted === p.label && Math.max(...p.probabilities) > 0.995);
    expect(sample).toBeGreaterThanOrEqual(0);
    const digit = pixels.subarray(sample * 784, (sample + 1) * 784);
    const raw = { raw: { width: 28, height: 28, channels: 1 as const } };
    const dark = join(dir, 'digit-dark-on-light.png');
    const light = join(dir, 'digit-light-on-dark.jpg');
    // A larger canvas than MNIST's, with margins: the command must find, scale and centre the digit.
    await sharp(Buffer.from(digit.map((v) => 255 - v)), raw)
      .resize(112, 112)
      .extend({ top: 40, bottom: 8, left: 30, right: 60, background: '#ffffff' })
      .png()
      .toFile(dark);
    await sharp(Buffer.from(digit), raw)
      .resize(84, 84)
      .extend({ top: 10, bottom: 30, left: 5, right: 5, background: '#000000' })
      .jpeg({ quality: 95 })
      .toFile(light);

    for (const [file, inverted] of [
      [dark, true],
      [light, false],
    ] as const) {
      const r = await runCli(['predict', '--model', model, '--input', file, '--json']);
      expect(r.code).toBe(0);
      const [p] = jsonLines(r.stdout) as unknown as Prediction[];
      expect(p.inverted).toBe(inverted);
      expect(p.predicted).toBe(labels[sample]);
      expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      if (inverted) expect(r.stderr).toMatch(/inverted \(mostly light; MNIST digits are white on black\)/);
    }
  });

  it('export writes an ONNX graph that ONNX Runtime runs to the same probabilities', async () => {
    const onnx = join(dir, 'm.onnx');
    const r = await runCli(['export', '--model', model, '--onnx', onnx]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/input "input" \[N, 784\] → "probabilities" \[N, 10\]/);
    const rows = 8;
    // The ONNX graph takes raw pixels: the ÷255 of this model is its first node.
    const x = Float32Array.from(pixels.subarray(0, rows * 784));
    const out = await runOnnx(onnx, x, rows, 784);
    expect(out.name).toBe('probabilities');
    expectClose(
      out.data,
      idxPredictions.slice(0, rows).flatMap((p) => p.probabilities),
      1e-5,
    );
  });

  it('eval refuses a --normalize other than the model was trained with', async () => {
    const r = await runCli(['eval', '--model', model, '--normalize', 'standardize']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--normalize standardize: .* was trained on scale inputs/);
  });

  it("eval defaults to the run's own held-out set, normalized with the statistics saved from training", async () => {
    const standardized = join(dir, 's.safetensors');
    const args = ['--normalize', 'standardize', '--limit', '2000', '--val-split', '0.25', '--seed', '5'];
    const t = await runCli(['train', '--json', ...args, '--epochs', '1', '--workers', '0', '--save', standardized]);
    expect(t.code).toBe(0);
    const accuracy = jsonLines(t.stdout).at(-1)!.testAccuracy as number;
    const e = jsonLines((await runCli(['eval', '--model', standardized, '--json'])).stdout)[0];
    expect(e.set).toBe('validation');
    expect(e.count).toBe(500);
    expect(e.data).toMatch(/validation split: 500 of 2000, random, seed 5\).*standardized/);
    // Within one sample of 500: the same split, the same statistics, the same weights.
    expect(Math.abs((e.accuracy as number) - accuracy)).toBeLessThanOrEqual(1 / 500 + 1e-12);
    // Another seed is another split: the data options, once given, are the user's.
    const other = jsonLines((await runCli(['eval', '--model', standardized, '--json', '--limit', '2000', '--val-split', '0.25', '--seed', '6'])).stdout)[0];
    expect(other.count).toBe(500);
    expect(other.data).toMatch(/seed 6\)/);
  });
});
