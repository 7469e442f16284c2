import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobReport, type Service, start } from '../examples/service.js';
import { closeInference } from '../src/api/inference-pool.js';
import { predict } from '../src/api/predict.js';
import { type Dataset } from '../src/data/dataset.js';
import { loadMnist } from '../src/data/mnist.js';

let service: Service;
let url: string;
let test: Dataset;

beforeAll(async () => {
  ({ service, url } = await start(0));
  ({ test } = await loadMnist());
});
afterAll(async () => {
  await service.app.close();
  await closeInference();
});

async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: any; ms: number }> {
  const started = performance.now();
  const response = await fetch(url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  return { status: response.status, json, ms: performance.now() - started };
}

const pixels = (i: number) => Array.from(test.images.subarray(i * 784, (i + 1) * 784));

describe('example service', () => {
  it('answers /health, and /predict only once a model exists', async () => {
    expect((await call('GET', '/health')).json).toMatchObject({ status: 'ok', model: null, running: 0 });
    expect((await call('POST', '/predict', { pixels: pixels(0) })).status).toBe(503);
  });

  // The default trains on worker threads; workers: 0 on the event loop, between requests.
  // Long enough for a few requests while it runs on the fastest machine here (AVX-512: 2 epochs took 0.1 s).
  const epochs = 8;
  for (const workers of [undefined, 0]) {
    it(`trains in the background (workers: ${workers ?? 'default'}), stays responsive, reports progress, then serves predictions`, async () => {
      const started = await call('POST', '/train', { epochs, limit: 6000, batchSize: 32, workers });
      expect(started.status).toBe(202);
      const { id } = started.json;

      const healthMs: number[] = [];
      let running: JobReport | null = null;
      for (;;) {
        const health = await call('GET', '/health');
        const job = (await call('GET', `/train/${id}`)).json as JobReport;
        if (job.state !== 'running') break;
        healthMs.push(health.ms);
        if (job.step) running = job;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // Requests were answered between training steps, not after the training.
      expect(running?.step?.stepsPerEpoch).toBe(188);
      expect(healthMs.length).toBeGreaterThanOrEqual(3);
      const sorted = [...healthMs].sort((a, b) => a - b);
      expect(sorted[sorted.length >> 1], `GET /health latencies during training (ms): ${healthMs.map((t) => t.toFixed(1)).join(' ')}`).toBeLessThan(50);

      const done = (await call('GET', `/train/${id}`)).json as JobReport;
      expect(done).toMatchObject({ state: 'done', error: null, request: { epochs, limit: 6000, batchSize: 32 } });
      expect(done.request.workers).toBe(workers);
      expect(done.epoch?.epoch).toBe(epochs);
      expect(done.test!.accuracy).toBeGreaterThan(0.8);
      expect(service.served?.source).toBe(`job ${id}`);

      // One image, then a batch: the answers are the library's predictions with the served model.
      const one = await call('POST', '/predict', { pixels: pixels(0) });
      const batch = await call('POST', '/predict', { pixels: [pixels(0), pixels(1), pixels(2)] });
      const expected = await predict(service.served!.model, test.subset([0, 1, 2], 'first three'));
      expect(one.status).toBe(200);
      expect(one.json.class).toBe(expected.classes[0]);
      expect(one.json.probabilities).toEqual(Array.from(expected.probabilities.subarray(0, 10)));
      expect(batch.json.predictions.map((p: { class: number }) => p.class)).toEqual(Array.from(expected.classes));
      expect(batch.json.predictions[2].probabilities).toEqual(Array.from(expected.probabilities.subarray(20, 30)));
    }, 30_000);
  }

  it('cancels a running job (serial trainer), which keeps the model served before it', async () => {
    const served = service.served;
    const { id } = (await call('POST', '/train', { epochs: 100, limit: 2000, workers: 0 })).json;
    let job: JobReport;
    do job = (await call('GET', `/train/${id}`)).json;
    while (!job.step);
    const cancelled = await call('POST', `/train/${id}/cancel`);
    expect(cancelled.json).toMatchObject({ id, state: 'cancelled', error: null });
    expect(service.served).toBe(served);
    expect((await call('POST', `/train/${id}/cancel`)).status).toBe(409);
  }, 30_000);

  it('refuses bad requests with 400 or 404', async () => {
    expect((await call('POST', '/predict', { pixels: [1, 2, 3] })).status).toBe(400);
    expect((await call('POST', '/predict', { pixels: pixels(0).map((v, i) => (i === 5 ? 256 : v)) })).status).toBe(400);
    expect((await call('POST', '/train', { epochs: 0 })).status).toBe(400);
    expect((await call('GET', '/train/nope')).status).toBe(404);
    expect((await call('POST', '/train/nope/cancel')).status).toBe(404);
  });
});
