import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { closeInference, rowScratch } from '../src/api/inference-pool.js';
import { INLINE_MAX_ROWS, predict, predictSync, rowSource } from '../src/api/predict.js';
import { loadMnist } from '../src/data/mnist.js';
import { InvalidOptionError } from '../src/errors.js';
import { takeFirst } from '../src/data/split.js';
import { createModel } from '../src/nn/model.js';
import { referenceForward } from '../src/nn/reference.js';
import { gatherAll, randomDataset } from './helpers/api.js';
import { expectClose } from './helpers/models.js';

afterAll(() => closeInference());

/** Arg-max of each row, first index on ties: the classes predict() must report. */
function argmaxRows(p: ArrayLike<number>, rows: number, columns: number): number[] {
  return Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let c = 1; c < columns; c++) if (p[r * columns + c] > p[r * columns + best]) best = c;
    return best;
  });
}

describe('predict', () => {
  // BatchNorm in evaluation mode reads the running statistics: give them values that matter.
  const model = createModel({ layers: [20, 16, 12, 5], norm: 'batch', activation: 'tanh' }, { seed: 3 });
  model.buffers.forEach((_, i, b) => (b[i] = 0.5 + 0.25 * Math.sin(i)));
  const data = randomDataset(700, 20, 5, 11);
  // Raw rows, as a caller holds them; the model's schema (÷255 by default) normalizes them.
  const x = Float32Array.from(data.images);
  const { x: normalized } = gatherAll(data);

  it('matches the float64 reference on the normalized rows, and reports each row’s arg-max class', async () => {
    const p = await predict(model, x, { inline: true });
    expect([p.rows, p.columns, p.classes.length, p.probabilities.length]).toEqual([700, 5, 700, 3500]);
    expectClose(p.probabilities, referenceForward(model.spec, model.params, model.buffers, Float64Array.from(normalized), 700, 'eval'), 1e-5);
    expect(Array.from(p.classes)).toEqual(argmaxRows(p.probabilities, 700, 5));
  });

  it('gives bit-identical results inline and on worker threads, for every kind of input', async () => {
    const rowArrays = Array.from({ length: 700 }, (_, r) => Array.from(x.subarray(r * 20, (r + 1) * 20)));
    const inline = await predict(model, x, { inline: true });
    for (const input of [x, rowArrays, data]) {
      for (const options of [{ inline: true }, { inline: false }, {}]) {
        const p = await predict(model, input, options);
        expect(p.rows).toBe(700);
        expect(Array.from(p.probabilities)).toEqual(Array.from(inline.probabilities));
        expect(Array.from(p.classes)).toEqual(Array.from(inline.classes));
      }
    }
    const sync = predictSync(model, data);
    expect(Array.from(sync.probabilities)).toEqual(Array.from(inline.probabilities));
  });

  it('reads the caller’s float rows in place, on a SharedArrayBuffer or not', async () => {
    const shared = new Float32Array(new SharedArrayBuffer(x.byteLength));
    shared.set(x);
    expect(rowSource(model, shared).source).toMatchObject({ kind: 'rows', x: shared });
    expect(rowSource(model, x).source).toMatchObject({ kind: 'rows', x });
    const expected = Array.from(predictSync(model, x).probabilities);
    expect(Array.from(predictSync(model, shared).probabilities)).toEqual(expected);
    expect(Array.from((await predict(model, shared, { inline: false })).probabilities)).toEqual(expected);
  });

  it('gives worker threads float rows on a SharedArrayBuffer in place, at any offset, and copies others', async () => {
    const expected = Array.from(predictSync(model, x).probabilities);
    const sab = new SharedArrayBuffer(x.byteLength + 3 * 20 * 4);
    const view = new Float32Array(sab, 3 * 20 * 4, x.length);
    view.set(x);
    await closeInference();
    expect(Array.from((await predict(model, view, { inline: false })).probabilities)).toEqual(expected);
    expect(rowScratch.retainedBytes).toBe(0);
    expect(Array.from((await predict(model, x, { inline: false })).probabilities)).toEqual(expected);
    expect(rowScratch.retainedBytes).toBeGreaterThanOrEqual(x.byteLength);
  });

  it('keeps overlapping calls on float rows apart, and lets the caller reuse its array once predict returns', async () => {
    // Rows in reverse order: another batch of the same size, with other outputs at every row.
    const reversed = new Float32Array(x.length);
    for (let r = 0; r < 700; r++) reversed.set(x.subarray(r * 20, (r + 1) * 20), (699 - r) * 20);
    const expectations = [x, reversed].map((rows) => Array.from(predictSync(model, rows).probabilities));
    for (let round = 0; round < 3; round++) {
      const inputs = [x.slice(), reversed.slice()];
      const pending = inputs.map((rows) => predict(model, rows, { inline: false }));
      for (const rows of inputs) rows.fill(Number.NaN);
      const results = await Promise.all(pending);
      results.forEach((p, i) => expect(Array.from(p.probabilities)).toEqual(expectations[i]));
    }
  });

  it('applies the model’s normalization, whatever the Dataset’s own', () => {
    const standardized = { scale: 1, mean: new Float32Array(20).fill(100), invStd: new Float32Array(20).fill(0.02) };
    const other = createModel(model.spec, { seed: 3 });
    other.buffers.set(model.buffers);
    other.schema = { ...other.schema, normalization: standardized, normalizationKind: 'standardize' };
    const expected = referenceForward(
      other.spec,
      other.params,
      other.buffers,
      Float64Array.from(x, (v) => (v - 100) * 0.02),
      700,
      'eval',
    );
    expectClose(predictSync(other, x).probabilities, expected, 1e-5);
    expectClose(predictSync(other, data).probabilities, expected, 1e-5);
  });

  it('answers a single sample like the same row in a batch', async () => {
    const batch = predictSync(model, x.subarray(0, 40 * 20));
    for (const r of [0, 17, 39]) {
      const one = predictSync(model, x.subarray(r * 20, (r + 1) * 20));
      expect(one.rows).toBe(1);
      expectClose(one.probabilities, batch.probabilities.subarray(r * 5, (r + 1) * 5), 1e-6);
      expect(one.classes[0]).toBe(batch.classes[r]);
    }
  });

  it('refuses inputs that do not fit the model, naming them', async () => {
    await expect(predict(model, new Float32Array(30))).rejects.toThrow(/30 values, not a whole number of rows of the model's input width 20/);
    await expect(predict(model, [new Array(20).fill(0), new Array(19).fill(0)])).rejects.toThrow(/inputs\[1\] has 19 values/);
    await expect(predict(model, randomDataset(3, 21, 2, 1))).rejects.toThrow(/21 features per sample but the model's input width is 20/);
    expect(() => predictSync(model, 'pixels' as never)).toThrow(InvalidOptionError);
  });

  it('keeps the event loop free while a large batch runs on worker threads', async () => {
    const { train: images } = await loadMnist();
    const big = createModel({ layers: [784, 128, 10] }, { seed: 1 });
    await predict(big, takeFirst(images, 2000), { inline: false }); // start the threads before measuring
    const delay = monitorEventLoopDelay({ resolution: 1 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    delay.enable();
    const started = performance.now();
    const p = await predict(big, images);
    const elapsed = performance.now() - started;
    delay.disable();
    clearInterval(ticker);
    expect(p.rows).toBe(60000);
    expect(images.count).toBeGreaterThan(INLINE_MAX_ROWS);
    // Run inline, this batch would hold the loop for the whole call: one delay as long as the call,
    // and no tick of the interval until the end.
    expect(ticks).toBeGreaterThan(elapsed / 20);
    expect(delay.count).toBeGreaterThan(elapsed / 20);
    const p99 = delay.percentile(99) / 1e6;
    expect(p99, `p99 event-loop delay ${p99.toFixed(1)} ms during a ${elapsed.toFixed(0)} ms predict`).toBeLessThan(elapsed / 4);
  });

  it('lets a script that predicted on worker threads exit at once, without closeInference()', async () => {
    const index = fileURLToPath(new URL('../dist/src/index.js', import.meta.url));
    const script = `
      const { createModel, predict } = await import(${JSON.stringify(index)});
      const model = createModel({ layers: [16, 8, 4] }, { seed: 1 });
      const p = await predict(model, new Float32Array(1000 * 16).fill(0.5), { inline: false });
      process.stdout.write(String(p.rows));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let printedAt = 0;
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      printedAt = performance.now();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(output).toBe('1000');
    // Idle threads end only after 30 s; a process they kept alive would still be running.
    expect(performance.now() - printedAt).toBeLessThan(10_000);
  }, 20_000);

  it('closeInference() ends the threads; a later predict starts new ones', async () => {
    const before = await predict(model, data, { inline: false });
    await closeInference();
    await closeInference();
    const after = await predict(model, data, { inline: false });
    expect(Array.from(after.probabilities)).toEqual(Array.from(before.probabilities));
  });
});
