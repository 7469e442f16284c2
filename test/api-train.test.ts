import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { type TrainEvent, trainEvents } from '../src/api/events.js';
import { createModel } from '../src/nn/model.js';
import { NonFiniteError } from '../src/errors.js';
import { MAX_WORKERS_PER_CORE } from '../src/train/options.js';
import { train } from '../src/train/trainer.js';
import { blobs } from './helpers/arrays.js';
import { blobDataset, expectThreadsBackTo, processThreads } from './helpers/datasets.js';

const data = blobs(640, 16, 4, 1);
const fresh = () => createModel({ layers: [16, 12, 4] }, { seed: 2 });

/** Lets pending timers and immediates run, so that a training that was still going would take steps. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('trainEvents', () => {
  it('yields every step of every epoch, then the epoch, in order, then done with the history', async () => {
    const seen: TrainEvent[] = [];
    const fromCallbacks: string[] = [];
    const options = {
      epochs: 2,
      batchSize: 64,
      workers: 0,
      evalData: data,
      onStep: () => fromCallbacks.push('step'),
      onEpoch: () => fromCallbacks.push('epoch'),
    };
    for await (const e of trainEvents(fresh(), data, options)) seen.push(e);
    const expected: string[] = [];
    for (let epoch = 1; epoch <= 2; epoch++) {
      for (let step = 1; step <= 10; step++) expected.push(`step ${epoch}.${step}`);
      expected.push(`epoch ${epoch}`);
    }
    expected.push('done');
    expect(seen.map((e) => (e.event === 'step' ? `step ${e.epoch}.${e.step}` : e.event === 'epoch' ? `epoch ${e.epoch}` : 'done'))).toEqual(expected);
    expect(fromCallbacks.length).toBe(22); // the caller's callbacks still run
    const done = seen[seen.length - 1];
    if (done.event !== 'done') throw new Error('no done event');
    expect(done.history.epochs).toEqual(seen.filter((e) => e.event === 'epoch'));
    expect(done).toMatchObject({ epochs: 2, testAccuracy: done.history.testAccuracy, seconds: done.history.seconds, workers: 0 });
    expect(done.history.testAccuracy).toBeGreaterThan(0.9);
  });

  it('gives the events before a failure, then throws the failure', async () => {
    const seen: string[] = [];
    const run = async () => {
      for await (const e of trainEvents(fresh(), data, { epochs: 3, batchSize: 64, workers: 0, optimizer: 'sgd', lr: 1e30 })) seen.push(e.event);
    };
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteError);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => e === 'step')).toBe(true);
    await expect(trainEvents(fresh(), data, { epochs: 0 }).next()).rejects.toThrow(/epochs must be a positive integer/);
  });

  it('throws an AbortError when the caller’s signal aborts', async () => {
    const controller = new AbortController();
    let steps = 0;
    const run = async () => {
      for await (const e of trainEvents(fresh(), data, { epochs: 5, batchSize: 16, workers: 0, signal: controller.signal }))
        if (e.event === 'step' && ++steps === 3) controller.abort();
    };
    await expect(run()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('stops the training when the loop is left early, and the next training works', async () => {
    let stepsTaken = 0;
    const options = { epochs: 50, batchSize: 16, workers: 0, onStep: () => stepsTaken++ };
    for await (const e of trainEvents(fresh(), data, options)) if (e.event === 'epoch') break;
    const atBreak = stepsTaken;
    await settle();
    expect(stepsTaken).toBe(atBreak);
    expect(atBreak).toBeLessThan(50 * 40);
    const history = await train(fresh(), data, { epochs: 1, workers: 0 });
    expect(history.epochs).toHaveLength(1);
  });
});

describe('train with an AbortSignal', () => {
  const images = blobDataset(2000, 16, 4, 3);
  for (const workers of [0, 2]) {
    it(`rejects with an AbortError at the next step (workers: ${workers}), leaves no thread, and a following train works`, async () => {
      const threadsBefore = await processThreads();
      const controller = new AbortController();
      let stepsAfterAbort = 0;
      const run = train(fresh(), images, {
        epochs: 3,
        batchSize: 16,
        workers,
        signal: controller.signal,
        onStep: (e) => {
          if (controller.signal.aborted) stepsAfterAbort++;
          if (e.epoch === 1 && e.step === 5) controller.abort();
        },
      });
      await expect(run).rejects.toMatchObject({ name: 'AbortError' });
      await settle();
      expect(stepsAfterAbort).toBe(0);
      await expectThreadsBackTo(threadsBefore);

      const history = await train(fresh(), images, { epochs: 2, batchSize: 32, workers, evalData: images });
      expect(history.workers).toBe(workers);
      expect(history.testAccuracy).toBeGreaterThan(0.9);
    });
  }

  it('leaves no thread when a trainEvents loop on worker threads is left early', async () => {
    const threadsBefore = await processThreads();
    for await (const e of trainEvents(fresh(), images, { epochs: 20, batchSize: 16, workers: 2 })) if (e.event === 'step' && e.step === 3) break;
    await expectThreadsBackTo(threadsBefore);
  });
});

describe('train with more workers than can help', () => {
  it('refuses, before any thread starts, more workers than a batch has rows or than 4 per core', async () => {
    const before = await processThreads();
    const cores = availableParallelism();
    const tooMany = MAX_WORKERS_PER_CORE * cores + 1;
    await expect(train(fresh(), data, { epochs: 1, batchSize: 256, workers: tooMany })).rejects.toThrow(
      `workers (${tooMany}) is more than 4 per core of the ${cores} available: the threads would take turns on the cores`,
    );
    await expect(train(fresh(), data, { epochs: 1, batchSize: 256, workers: 1000 })).rejects.toThrow(/^workers \(1000\) is more than/);
    await expect(train(fresh(), data, { epochs: 1, batchSize: 3, workers: 4 })).rejects.toThrow(
      'workers (4) is more than the 3 rows of a batch: a worker without rows only waits',
    );
    // A batch larger than the data set has the data set's rows.
    await expect(train(fresh(), blobs(2, 16, 4, 1), { epochs: 1, batchSize: 128, workers: 3 })).rejects.toThrow('than the 2 rows of a batch');
    await expectThreadsBackTo(before);
  });

  it('defaults to at most one worker per row of a batch', async () => {
    const history = await train(fresh(), blobDataset(1, 16, 4, 1), { epochs: 1 });
    expect(history.workers).toBe(1);
    expect(history.options.workers).toBe(1);
  });
});
