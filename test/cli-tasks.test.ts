// fcnn train/predict/eval on CSV files as people write them: a regression from float columns (its
// R² against a least-squares fit on the same split), multi-label columns, and string class labels
// that come back as names.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsv } from '../src/data/csv.js';
import { splitDataset } from '../src/data/split.js';
import { Random } from '../src/util/random.js';
import { jsonLines, runCli } from './helpers/cli.js';
import { temporaryDirectory } from './helpers/models.js';
import { leastSquares } from './helpers/least-squares.js';

let dir: string;
let remove: () => Promise<void>;
beforeAll(async () => ({ dir, remove } = await temporaryDirectory()));
afterAll(() => remove());

/** A house-price-like table: 5 float columns around 50, a price around 150 from them plus noise. */
function regressionCsv(path: string, rows: number): void {
  const rng = new Random(31);
  const w = [3, -2, 0.5, 1.5, -1];
  const lines = ['area,rooms,age,"distance, km",floor,price'];
  for (let r = 0; r < rows; r++) {
    const x = w.map(() => 50 + 20 * rng.normal());
    const price = 150 + x.reduce((s, v, j) => s + (w[j] * (v - 50)) / 20, 0) * 10 + 2 * rng.normal();
    lines.push([...x.map((v) => v.toFixed(3)), price.toFixed(2)].join(','));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

function rSquared(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i] / y.length;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < y.length; i++) {
    sse += (p[i] - y[i]) ** 2;
    sst += (y[i] - mean) ** 2;
  }
  return 1 - sse / sst;
}

describe('fcnn train --task regression --csv', () => {
  it('reaches the R² of least squares on the held-out split, and predict gives prices from raw rows', async () => {
    const csv = join(dir, 'houses.csv');
    regressionCsv(csv, 1000);
    const model = join(dir, 'houses.safetensors');
    const r = await runCli(
      [
        'train',
        '--csv',
        csv,
        '--target',
        'price',
        '--task',
        'regression',
        '--layers',
        '5,32,1',
        '--optimizer',
        'adam',
        '--lr',
        '0.01',
        '--schedule',
        'cosine',
        '--epochs',
        '40',
        '--batch-size',
        '32',
        '--workers',
        '0',
        '--val-split',
        '0.25',
        '--save',
        model,
        '--json',
        '--report',
        join(dir, 'report'),
      ],
      { timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const epochs = jsonLines(r.stdout).filter((e) => e.event === 'epoch');
    const last = epochs.at(-1)!;
    for (const field of ['testMse', 'testMae', 'testR2']) expect(typeof last[field]).toBe('number');
    // The same split the CLI made (seed 1), fitted by least squares.
    const { train, validation } = splitDataset(await loadCsv(csv, { target: 'price' }), { valSplit: 0.25, seed: 1 });
    const ls = rSquared(leastSquares(train.images, train.targets!, 5, validation!.images), validation!.targets!);
    const r2 = last.testR2 as number;
    expect(r2, `R² on the held-out split: fcnn ${r2.toFixed(4)}, least squares ${ls.toFixed(4)}`).toBeGreaterThan(ls - 0.01);
    // The report charts what a regression has: R² per epoch and predicted against true, no confusion matrix.
    const charts = readdirSync(join(dir, 'report'));
    expect(charts).toEqual(expect.arrayContaining(['r2.svg', 'predicted.svg', 'loss.svg']));
    expect(charts).not.toContain('confusion.svg');
    expect(charts).not.toContain('accuracy.svg');

    // predict takes the file with its price column still there, and leaves it out by name.
    const p = await runCli(['predict', '--model', model, '--csv', csv, '--json']);
    expect(p.code).toBe(0);
    const predictions = jsonLines(p.stdout);
    expect(predictions).toHaveLength(1000);
    const values = predictions.map((e) => (e.values as number[])[0]);
    expect(rSquared(values, Array.from((await loadCsv(csv, { target: 'price' })).targets!))).toBeGreaterThan(0.95);
    const e = await runCli(['eval', '--model', model, '--csv', csv, '--target', 'price', '--task', 'regression', '--val-split', '0.25']);
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/R² 0\.9\d+/);
  }, 180_000);
});

describe('fcnn train on string class labels', () => {
  it('trains, saves the names, and predict and eval print them', async () => {
    const rng = new Random(8);
    const names = ['oak', 'pine', 'birch'];
    const lines = ['height;width;kind'];
    for (let i = 0; i < 300; i++) lines.push(`${(i % 3) * 4 + rng.normal()};${5 - (i % 3) * 2 + rng.normal()};"${names[i % 3]}"`);
    const csv = join(dir, 'trees.csv');
    writeFileSync(csv, lines.join('\n'));
    const model = join(dir, 'trees.safetensors');
    const r = await runCli(
      [
        'train',
        '--csv',
        csv,
        '--delimiter',
        ';',
        '--target',
        'kind',
        '--layers',
        '2,16,3',
        '--optimizer',
        'adam',
        '--lr',
        '0.01',
        '--epochs',
        '20',
        '--batch-size',
        '16',
        '--workers',
        '0',
        '--save',
        model,
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code).toBe(0);
    const test = join(dir, 'trees-new.csv');
    writeFileSync(test, 'height;width\n0;5\n4;3\n8;1\n');
    const p = await runCli(['predict', '--model', model, '--csv', test, '--delimiter', ';', '--json']);
    expect(p.code).toBe(0);
    expect(jsonLines(p.stdout).map((e) => e.class)).toEqual(['oak', 'pine', 'birch']);
    const e = await runCli(['eval', '--model', model]);
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/^\s*birch\s/m);
  }, 120_000);

  it('trains multi-label columns with --task multilabel and reports F1', async () => {
    const rng = new Random(9);
    const lines = ['a,b,c,hot,wet'];
    for (let i = 0; i < 400; i++) {
      const x = [rng.normal(), rng.normal(), rng.normal()];
      lines.push([...x.map((v) => v.toFixed(3)), x[0] + x[1] > 0 ? 1 : 0, x[2] > 0 ? 1 : 0].join(','));
    }
    const csv = join(dir, 'weather.csv');
    writeFileSync(csv, lines.join('\n'));
    const r = await runCli(
      [
        'train',
        '--csv',
        csv,
        '--target',
        'hot,wet',
        '--task',
        'multilabel',
        '--layers',
        '3,16,2',
        '--optimizer',
        'adam',
        '--lr',
        '0.01',
        '--epochs',
        '20',
        '--batch-size',
        '16',
        '--workers',
        '0',
        '--json',
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code).toBe(0);
    const last = jsonLines(r.stdout)
      .filter((e) => e.event === 'epoch')
      .at(-1)!;
    expect(last.testF1 as number).toBeGreaterThan(0.85);
  }, 120_000);
});
