// bench:predict — latency of predict() for 784-128-10 on MNIST test images: one sample on the
// caller's thread (what a request handler pays), and the 10000 test images on the worker pool
// (and inline, for comparison), as the uint8 Dataset and as float32 rows of the same raw pixels (on a
// SharedArrayBuffer, read in place; on an ArrayBuffer, copied once into the pool's scratch memory),
// the three timed in turn in every repeat. Checks first that every path gives the same predictions.
import { fileURLToPath } from 'node:url';
import { closeInference, createModel, loadMnist, predict, predictSync, takeFirst, train } from '../src/index.js';
import { machineDescription, median, parseBenchArgs, report, timePerCall, type Row } from './common.js';

async function secondsPerAwait(fn: () => Promise<unknown>, repeats: number, callsPerRepeat: number): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) samples.push(await timeAwaits(fn, callsPerRepeat));
  return median(samples);
}

async function timeAwaits(fn: () => Promise<unknown>, calls: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < calls; i++) await fn();
  return (performance.now() - started) / 1000 / calls;
}

/**
 * Median seconds per call of each fn, timed in turn within every repeat, so that a change in the
 * machine's load falls on all of them alike and their ratios hold.
 */
async function pairedSecondsPerAwait(fns: (() => Promise<unknown>)[], repeats: number, callsPerRepeat: number): Promise<number[]> {
  for (const fn of fns) await fn();
  const samples = fns.map((): number[] => []);
  for (let r = 0; r < repeats; r++) for (const [i, fn] of fns.entries()) samples[i].push(await timeAwaits(fn, callsPerRepeat));
  return samples.map(median);
}

export async function runPredictBench(json: boolean, repeats: number): Promise<Row[]> {
  const { train: images, test } = await loadMnist();
  const model = createModel({ layers: [784, 128, 10] }, { seed: 1 });
  await train(model, takeFirst(images, 10000), { epochs: 1, batchSize: 64, workers: 0 });
  if (!json) console.log(`bench:predict — 784-128-10 on MNIST test; ${await machineDescription()}`);

  const offThread = await predict(model, test);
  const inline = predictSync(model, test);
  if (offThread.probabilities.some((p, i) => p !== inline.probabilities[i])) throw new Error('off-thread and inline predictions differ');
  // Raw pixels as floats: the model normalizes them as it does the Dataset's bytes.
  const floats = Float32Array.from(test.images);
  const sharedFloats = new Float32Array(new SharedArrayBuffer(floats.byteLength));
  sharedFloats.set(floats);
  const one = floats.slice(0, 784);
  if (predictSync(model, one).classes[0] !== inline.classes[0]) throw new Error('a single sample is not predicted as in the batch');
  for (const rowsOf of [floats, sharedFloats])
    if ((await predict(model, rowsOf)).probabilities.some((p, i) => p !== inline.probabilities[i]))
      throw new Error('float rows are not predicted as the Dataset');
  let correct = 0;
  for (let i = 0; i < test.count; i++) if (inline.classes[i] === test.labels![i]) correct++;

  const row = (name: string, rows: number, where: string, seconds: number): Row => ({
    bench: 'predict',
    case: name,
    rows,
    where,
    us: seconds * 1e6,
    rowsPerSec: rows / seconds,
  });
  const [dataset, shared, plain] = await pairedSecondsPerAwait(
    [() => predict(model, test), () => predict(model, sharedFloats), () => predict(model, floats)],
    repeats,
    3,
  );
  const rows = [
    row(
      'single sample, predictSync',
      1,
      'inline',
      timePerCall(() => predictSync(model, one), repeats),
    ),
    row('single sample, await predict', 1, 'inline', await secondsPerAwait(() => predict(model, one), repeats, 2000)),
    row('MNIST test, uint8 Dataset, await predict', test.count, 'workers', dataset),
    row('MNIST test, float32 rows on a SharedArrayBuffer, await predict', test.count, 'workers', shared),
    row('MNIST test, float32 rows on an ArrayBuffer, await predict', test.count, 'workers', plain),
    row(
      'MNIST test, uint8 Dataset, predictSync',
      test.count,
      'inline',
      timePerCall(() => predictSync(model, test), repeats),
    ),
  ];
  report(rows, json);
  if (!json) {
    console.log(
      `float32 rows / uint8 Dataset, workers: ${(shared / dataset).toFixed(2)}× on a SharedArrayBuffer, ${(plain / dataset).toFixed(2)}× on an ArrayBuffer`,
    );
    console.log(`test accuracy of the model: ${(correct / test.count).toFixed(4)}`);
  }
  await closeInference();
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { json, repeats } = parseBenchArgs();
  await runPredictBench(json, repeats);
}
