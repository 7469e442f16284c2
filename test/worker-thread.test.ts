// The addon loads in worker threads and its kernels work on views of SharedArrayBuffers: the data
// parallel trainer's pattern. Two workers each take half the rows, write a gradient slot, meet at
// a barrier, reduce their half of the slots into slot 0 and update their half of the parameters; the main
// thread then checks everything through its own views of the same memory.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { it } from 'vitest';
import { softmaxCrossEntropy } from '../src/nn/reference.js';
import { Rng, columnSums, expectClose } from './reference.js';

const ADDON = fileURLToPath(new URL('../build/Release/fcnn.node', import.meta.url));
const WORKERS = 2,
  ROWS = 10,
  COLS = 7,
  LR = 0.5;

// Offsets (in floats) of the regions of the shared buffer.
const LAYOUT = { x: 0, probs: ROWS * COLS, relu: 2 * ROWS * COLS, slots: 3 * ROWS * COLS };
const PARAMS = LAYOUT.slots + WORKERS * COLS,
  FLOATS = PARAMS + COLS;

// Plain CommonJS, run with eval: the worker loads the addon by its absolute path.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
const native = createRequire(workerData.addon)(workerData.addon);
const { floats, labels, sync, worker, workers, rows, cols, layout, params, lr } = workerData;
const view = (at, n) => new Float32Array(floats, at * 4, n);
const mine = rows / workers, first = worker * mine;
const x = view(layout.x + first * cols, mine * cols);
native.activationForward(1, 0, x, view(layout.relu + first * cols, mine * cols), mine * cols);
const loss = native.softmaxCrossEntropy(x, new Int32Array(labels, first * 4, mine), view(layout.probs + first * cols, mine * cols), mine, cols);
native.columnSums(x, mine, cols, view(layout.slots + worker * cols, cols), 0);
const counter = new Int32Array(sync);
if (Atomics.add(counter, 0, 1) + 1 === workers) Atomics.notify(counter, 0);
for (let seen; (seen = Atomics.load(counter, 0)) < workers; ) Atomics.wait(counter, 0, seen);
const begin = Math.floor((worker * cols) / workers), end = Math.floor(((worker + 1) * cols) / workers);
native.reduceSlots(view(layout.slots, workers * cols), workers, cols, begin, end);
native.sgdStep(view(params + begin, end - begin), view(layout.slots + begin, end - begin), lr, 0);
parentPort.postMessage(loss);
`;

function run(workerData: object): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
    worker.once('message', (loss: number) => {
      resolve(loss);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with code ${code} before answering`)));
  });
}

it('runs kernels in worker threads on shared memory the main thread sees', async () => {
  const floats = new SharedArrayBuffer(FLOATS * 4),
    labels = new SharedArrayBuffer(ROWS * 4),
    sync = new SharedArrayBuffer(4);
  const all = new Float32Array(floats),
    labelView = new Int32Array(labels);
  const rng = new Rng(1);
  all.set(rng.floats(ROWS * COLS, -3, 3), LAYOUT.x);
  labelView.set(rng.labels(ROWS, COLS));
  const params = rng.floats(COLS);
  all.set(params, PARAMS);

  const losses = await Promise.all(
    Array.from({ length: WORKERS }, (_, worker) =>
      run({ addon: ADDON, floats, labels, sync, worker, workers: WORKERS, rows: ROWS, cols: COLS, layout: LAYOUT, params: PARAMS, lr: LR }),
    ),
  );

  const x = all.subarray(LAYOUT.x, LAYOUT.x + ROWS * COLS);
  const ref = softmaxCrossEntropy(x, labelView, ROWS, COLS);
  expectClose(
    all.subarray(LAYOUT.relu, LAYOUT.relu + ROWS * COLS),
    Array.from(x, (v) => Math.max(v, 0)),
    0,
  );
  expectClose(all.subarray(LAYOUT.probs, LAYOUT.probs + ROWS * COLS), ref.probs, 1e-6, 1e-9);
  expectClose([losses[0] + losses[1]], [ref.loss], 1e-6);
  const sums = columnSums(x, ROWS, COLS);
  expectClose(all.subarray(LAYOUT.slots, LAYOUT.slots + COLS), sums, 1e-6, 1e-6);
  expectClose(
    all.subarray(PARAMS, PARAMS + COLS),
    Array.from(params, (p, j) => p - LR * sums[j]),
    1e-6,
    1e-6,
  );
});
