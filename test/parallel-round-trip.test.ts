// The probe that decides, every epoch, whether the workers' packs go past the caches: real threads
// taking turns on the control block, an abort that ends a wait, and the engine's record of it.
// Run `npx tsc -p tsconfig.json` first: worker threads run dist/.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Dataset } from '../src/data/dataset.js';
import { createModel } from '../src/nn/model.js';
import { DataParallelEngine } from '../src/train/parallel/engine.js';
import { Control, Word } from '../src/train/parallel/protocol.js';
import { answerRoundTrips, leadRoundTrips, probeBase } from '../src/train/parallel/round-trip.js';
import { blobDataset, engineSetup } from './helpers/datasets.js';

const ROUND_TRIP = pathToFileURL(resolve('dist/src/train/parallel/round-trip.js')).href;
const PROTOCOL = pathToFileURL(resolve('dist/src/train/parallel/protocol.js')).href;

/** A thread that runs one side of the probe over `control` for each base, posting what each returned. */
function partner(control: Control, side: 'lead' | 'answer', bases: number[]): { results: Promise<unknown[]> } {
  const source = `
    const { workerData, parentPort } = require('node:worker_threads');
    (async () => {
      const { leadRoundTrips, answerRoundTrips } = await import(${JSON.stringify(ROUND_TRIP)});
      const { Control } = await import(${JSON.stringify(PROTOCOL)});
      const control = new Control(workerData.buffer, workerData.workers, 1);
      const out = workerData.bases.map((base) =>
        workerData.side === 'lead' ? leadRoundTrips(control, base) : answerRoundTrips(control, 1, base));
      parentPort.postMessage(out);
    })();`;
  const worker = new Worker(source, { eval: true, workerData: { buffer: control.buffer, workers: control.workers, side, bases } });
  const results = new Promise<unknown[]>((done, fail) => {
    worker.once('message', (out: unknown[]) => void worker.terminate().then(() => done(out)));
    worker.once('error', fail);
  });
  return { results };
}

describe('the round-trip probe', () => {
  it('times the trips between two threads, epoch after epoch on the same words', async () => {
    const control = Control.create(2, 1);
    const bases = [probeBase(1), probeBase(2), probeBase(1_000_001)];
    const answers = partner(control, 'answer', bases);
    const nanos = bases.map((base) => leadRoundTrips(control, base));
    expect(await answers.results).toEqual([true, true, true]);
    for (const n of nanos) {
      // Two atomic stores and the loads between them: more than a nanosecond, far less than 10 ms
      // (the fastest of four groups of trips, so one preempted trip does not count).
      expect(n).toBeGreaterThan(1);
      expect(n).toBeLessThan(1e7);
    }
    // Epoch 1 000 001 reuses epoch 1's values, and still differs from what its predecessor left.
    expect(probeBase(1_000_001)).toBe(probeBase(1));
    expect(probeBase(1)).not.toBe(probeBase(2));
  });

  it('stops waiting on either side when the engine aborts', async () => {
    for (const side of ['lead', 'answer'] as const) {
      const control = Control.create(2, 1);
      const alone = partner(control, side, [probeBase(1)]);
      await new Promise((done) => setTimeout(done, 50));
      Atomics.store(control.ints, Word.Abort, 1);
      expect(await alone.results).toEqual([side === 'lead' ? null : false]);
    }
  });
});

describe('the engine and the probe', () => {
  const data = () => {
    const blobs = blobDataset(64, 8, 3, 5);
    return new Dataset({ images: blobs.images, labels: blobs.labels, count: 64, width: 8, classes: 3, source: 'blobs' });
  };

  it('counts the epochs and those that packed past the caches; none when workers outnumber cores', async () => {
    for (const workers of [2, availableParallelism() + 1]) {
      const model = createModel({ layers: [8, 16, 3] }, { seed: 2 });
      const engine = await DataParallelEngine.create(engineSetup(model, data(), 16), workers);
      try {
        const lr = new Float64Array(4).fill(0.01);
        for (let e = 0; e < 3; e++) await engine.epoch({ steps: 4, lr, stopOnNonFinite: true }, () => {});
        expect(engine.timing.epochs).toBe(3);
        expect(engine.timing.farEpochs).toBeGreaterThanOrEqual(0);
        expect(engine.timing.farEpochs).toBeLessThanOrEqual(3);
        if (workers > availableParallelism()) expect(engine.timing.farEpochs).toBe(0);
      } finally {
        await engine.close();
      }
    }
  });
});
