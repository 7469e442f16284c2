import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Evaluation, evaluate } from '../src/api/evaluate.js';
import { closeInference } from '../src/api/inference-pool.js';
import { predict } from '../src/api/predict.js';
import { Dataset } from '../src/data/dataset.js';
import { view } from '../src/nn/layout.js';
import { type Model, createModel } from '../src/nn/model.js';
import { referenceLoss } from '../src/nn/reference.js';
import { gatherAll, randomDataset, smallMnistModel } from './helpers/api.js';

afterAll(() => closeInference());

/** Accuracy, confusion and per-class metrics recomputed in plain loops from predict()'s probabilities. */
async function fromProbabilities(model: Model, data: Dataset): Promise<Omit<Evaluation, 'loss'>> {
  const { probabilities, columns } = await predict(model, data);
  const k = model.classes;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let r = 0; r < data.count; r++) {
    let best = 0;
    for (let c = 1; c < columns; c++) if (probabilities[r * columns + c] > probabilities[r * columns + best]) best = c;
    confusion[data.labels![r]][best]++;
  }
  const column = (c: number) => confusion.reduce((s, row) => s + row[c], 0);
  const rowSum = (c: number) => confusion[c].reduce((s, v) => s + v, 0);
  const perClass = confusion.map((row, c) => ({ precision: row[c] / column(c), recall: row[c] / rowSum(c), support: rowSum(c) }));
  const correct = confusion.reduce((s, row, c) => s + row[c], 0);
  const metrics = { accuracy: correct / data.count, mse: null, mae: null, r2: null, f1: null, perLabel: null };
  return { accuracy: correct / data.count, count: data.count, confusion, perClass, metrics };
}

describe('evaluate', () => {
  let model: Model;
  let test: Dataset;
  beforeAll(async () => ({ model, test } = await smallMnistModel(1000)), 30_000);

  it('matches accuracy, confusion and precision/recall recomputed from predict, and the float64 loss', async () => {
    const result = await evaluate(model, test);
    expect(result).toMatchObject(await fromProbabilities(model, test));
    expect(result.confusion.flat().reduce((a, b) => a + b, 0)).toBe(1000);
    expect(result.confusion.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(test.classCounts());
    expect(result.accuracy).toBeGreaterThan(0.7); // a trained model: the matrix is not degenerate
    const { x, labels } = gatherAll(test);
    const loss = referenceLoss(model.spec, model.params, model.buffers, Float64Array.from(x), labels, 1000, 'cross-entropy', 'eval');
    expect(Math.abs(result.loss - loss)).toBeLessThan(1e-5 * Math.max(1, loss));
  });

  it('gives the same answer inline and on worker threads', async () => {
    const inline = await evaluate(model, test, { inline: true });
    const threads = await evaluate(model, test, { inline: false });
    // Per-chunk loss sums are added in thread order: the total may differ in its last bits.
    expect(threads.loss).toBeCloseTo(inline.loss, 12);
    expect({ ...threads, loss: 0 }).toEqual({ ...inline, loss: 0 });
  });

  it('computes cross-entropy from the logits: finite where the float32 probability of the label is 0', async () => {
    const m = createModel({ layers: [2, 3] }, { seed: 1 });
    const w = view(m.params, m.layout.layers[0].weight);
    w.fill(0);
    w[0] = 200; // logit of class 0 is 200·x0; the label is class 1, whose probability e^-200 underflows
    const one = new Dataset({ images: Uint8Array.of(255, 0), labels: Uint8Array.of(1), count: 1, width: 2, classes: 3, source: 'one' });
    expect((await predict(m, one)).probabilities[1]).toBe(0);
    const result = await evaluate(m, one);
    expect(result.loss).toBeCloseTo(200, 4);
    expect(result.perClass[1]).toEqual({ precision: NaN, recall: 0, support: 1 });
    expect(result.perClass[0]).toEqual({ precision: 0, recall: NaN, support: 0 });
  });

  it('reports the squared error of a sigmoid head, as it trains with', async () => {
    const m = createModel({ layers: [12, 8, 4], output: 'sigmoid' }, { seed: 2 });
    const data = randomDataset(300, 12, 4, 5);
    const result = await evaluate(m, data, { inline: false });
    const { x, labels } = gatherAll(data);
    const loss = referenceLoss(m.spec, m.params, m.buffers, Float64Array.from(x), labels, 300, 'mse', 'eval');
    expect(Math.abs(result.loss - loss)).toBeLessThan(1e-5 * Math.max(1, loss));
    expect(result).toMatchObject(await fromProbabilities(m, data));
  });

  it('refuses data it cannot score, naming the problem', async () => {
    const unlabelled = new Dataset({ images: new Uint8Array(12), labels: null, count: 1, width: 12, source: 'unlabelled' });
    const m = createModel({ layers: [12, 3] });
    await expect(evaluate(m, unlabelled)).rejects.toThrow(/unlabelled has no labels/);
    await expect(evaluate(m, randomDataset(10, 12, 5, 1))).rejects.toThrow(/^random 10×12 sample \d+: label \d is outside \[0, 3\), the model has 3 outputs$/);
    await expect(evaluate(m, randomDataset(10, 13, 3, 1))).rejects.toThrow(/13 features per sample but the model's input width is 12/);
  });
});
