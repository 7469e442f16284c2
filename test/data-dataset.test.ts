import { beforeAll, describe, expect, it } from 'vitest';
import { MessageChannel, Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { Dataset, datasetFromShared, fitNormalization, loadMnist, type SharedDataset } from '../src/data/index.js';
import { patternBytes } from './data-fixtures.js';

let mnist: { train: Dataset; test: Dataset };
beforeAll(async () => {
  mnist = await loadMnist();
});

describe('bundled MNIST', () => {
  it('has 60000 training and 10000 test samples of 28×28 in 10 classes', () => {
    const { train, test } = mnist;
    expect([train.count, test.count]).toEqual([60000, 10000]);
    for (const ds of [train, test]) {
      expect(ds.width).toBe(784);
      expect(ds.shape).toEqual([28, 28]);
      expect(ds.classes).toBe(10);
      expect(ds.hasLabels).toBe(true);
      expect(ds.images.buffer).toBeInstanceOf(SharedArrayBuffer);
    }
    expect(train.description).toBe('MNIST train: 60000 samples of 28×28, 10 classes, scaled by 1/255');
    expect(test.description).toBe('MNIST test: 10000 samples of 28×28, 10 classes, scaled by 1/255');
  });

  it('has the official per-class counts of the training set', () => {
    expect(mnist.train.classCounts()).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  });

  it('has images that look like digits: a dark border and ink in the middle', () => {
    const { images, count } = mnist.train;
    let border = 0;
    let centre = 0;
    for (let r = 0; r < count; r += 97) {
      border += images[r * 784] + images[r * 784 + 27] + images[r * 784 + 783];
      centre += images[r * 784 + 14 * 28 + 14];
    }
    expect(border).toBe(0);
    expect(centre).toBeGreaterThan(0);
  });
});

describe('Dataset', () => {
  const small = () => new Dataset({ images: patternBytes(50 * 12, 31), labels: patternBytes(50, 32, 4), count: 50, width: 12, shape: [3, 4], source: 'small' });

  it('copies arrays that are not shared memory into SharedArrayBuffers, and keeps those that are', () => {
    const ds = small();
    expect(ds.images.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(ds.labels!.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(ds.images)).toEqual(Array.from(patternBytes(50 * 12, 31)));
    expect(new Dataset({ ...ds.share(), images: ds.images, labels: ds.labels, targets: null }).images).toBe(ds.images);
  });

  it('checks its fields, naming the source', () => {
    const images = new Uint8Array(6);
    expect(() => new Dataset({ images, labels: null, count: 2, width: 4, source: 's' })).toThrow('s: images hold 6 values, expected count × width = 2 × 4 = 8');
    expect(() => new Dataset({ images, labels: new Uint8Array(3), count: 2, width: 3, source: 's' })).toThrow('s: 3 labels for 2 samples');
    expect(() => new Dataset({ images, labels: Uint8Array.of(0, 5), count: 2, width: 3, classes: 5, source: 's' })).toThrow(
      's sample 1: label 5 is outside [0, 5), the classes given',
    );
    expect(() => new Dataset({ images, labels: null, count: 2, width: 3, shape: [2, 2], source: 's' })).toThrow(
      's: shape [2, 2] does not hold width 3 features',
    );
    expect(() => new Dataset({ images, labels: null, count: 2, width: 3, classes: 300.5, source: 's' })).toThrow(
      's: classes must be an integer from 0 to 16777216, got 300.5',
    );
    expect(() => new Dataset({ images, labels: null, count: 2, width: 3, normalization: { scale: 1, mean: new Float32Array(2) }, source: 's' })).toThrow(
      's: normalization.mean has 2 values, expected 3',
    );
  });

  it('subset copies the chosen samples in the given order and rejects indices outside', () => {
    const ds = small();
    const part = ds.subset([7, 2, 7], 'part');
    expect(part.count).toBe(3);
    expect(Array.from(part.images.subarray(12, 24))).toEqual(Array.from(ds.images.subarray(24, 36)));
    expect(Array.from(part.labels!)).toEqual([ds.labels![7], ds.labels![2], ds.labels![7]]);
    expect(part.shape).toEqual([3, 4]);
    expect(() => ds.subset([0, 50], 'bad')).toThrow('small: index 50 is outside [0, 50)');
  });

  it('share() crosses a MessageChannel as shared memory, and datasetFromShared rebuilds it', async () => {
    const ds = small().withNormalization(fitNormalization('standardize', small()));
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(ds.share());
    const [received] = (await once(port2, 'message')) as [SharedDataset];
    port1.close();
    const copy = datasetFromShared(received);
    expect(copy.description).toBe(ds.description);
    expect(copy.shape).toEqual([3, 4]);
    expect(Array.from(copy.normalization.invStd!)).toEqual(Array.from(ds.normalization.invStd!));
    ds.images[5] = 201;
    ds.labels![3] = 3;
    expect(copy.images[5]).toBe(201);
    expect(copy.labels![3]).toBe(3);
  });

  it('a worker thread writes into the memory of share() and the owner sees it', async () => {
    const ds = small();
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.once('message', (shared) => {
         new Uint8Array(shared.images)[shared.width * shared.count - 1] = 77;
         parentPort.postMessage(shared.source);
       });`,
      { eval: true },
    );
    worker.postMessage(ds.share());
    const [source] = await once(worker, 'message');
    await worker.terminate();
    expect(source).toBe('small');
    expect(ds.images[ds.images.length - 1]).toBe(77);
  });

  it('gathering labels from a data set without labels is an error', () => {
    const bare = new Dataset({ images: new Uint8Array(4), labels: null, count: 2, width: 2, source: 'bare' });
    expect(() => bare.gather(Int32Array.of(0), 0, 1, new Float32Array(2), new Int32Array(1))).toThrow('bare has no labels to gather');
  });
});

describe('Dataset.gather (native gatherRows/gatherLabels) against a TypeScript reference', () => {
  /** Float32 evaluation of (pixel·scale − mean)·invStd, the contract of native.gatherRows. */
  function referenceGather(ds: Dataset, indices: Int32Array, start: number, count: number): { x: Float32Array; y: Int32Array } {
    const { scale, mean, invStd } = ds.normalization;
    const x = new Float32Array(count * ds.width);
    const y = new Int32Array(count);
    const f = Math.fround;
    for (let r = 0; r < count; r++) {
      const i = indices[start + r];
      y[r] = ds.labels![i];
      for (let j = 0; j < ds.width; j++) {
        const scaled = f(ds.images[i * ds.width + j] * f(scale));
        x[r * ds.width + j] = f(f(scaled - (mean ? mean[j] : 0)) * (invStd ? invStd[j] : 1));
      }
    }
    return { x, y };
  }

  function expectClose(actual: Float32Array, expected: Float32Array): void {
    expect(actual.length).toBe(expected.length);
    let worst = 0;
    for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
    expect(worst).toBeLessThan(1e-6);
  }

  it('gathers a shuffled minibatch of MNIST under each normalization', () => {
    const indices = Int32Array.from({ length: 300 }, (_, i) => (i * 7919 + 13) % 60000);
    const start = 44;
    const count = 128;
    for (const kind of ['scale', 'none', 'standardize'] as const) {
      const ds = mnist.train.withNormalization(fitNormalization(kind, mnist.train));
      const x = new Float32Array(count * 784).fill(NaN);
      const y = new Int32Array(count).fill(-1);
      ds.gather(indices, start, count, x, y);
      const expected = referenceGather(ds, indices, start, count);
      expectClose(x, expected.x);
      expect(Array.from(y)).toEqual(Array.from(expected.y));
    }
  });

  it('passes the native range check through for an index outside the data set', () => {
    expect(() => mnist.test.gather(Int32Array.of(0, 10000), 0, 2, new Float32Array(2 * 784))).toThrow(RangeError);
  });

  it('prefetch is a hint: the gather after it gives the same minibatch, and indices outside are skipped', () => {
    const indices = Int32Array.from({ length: 64 }, (_, i) => (i * 7919 + 13) % 10000);
    const [before, after] = [new Float32Array(64 * 784), new Float32Array(64 * 784)];
    mnist.test.gather(indices, 0, 64, before);
    mnist.test.prefetch(indices, 0, 64);
    mnist.test.prefetch(Int32Array.of(-5, 10000), 0, 2);
    mnist.test.gather(indices, 0, 64, after);
    expect(after).toEqual(before);
  });
});
