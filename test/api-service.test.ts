import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { type JobReport, type Service, createService, start } from '../examples/service.js';
import { closeInference } from '../src/api/inference-pool.js';
import { predict } from '../src/api/predict.js';
import type { Dataset } from '../src/data/dataset.js';
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

// biome-ignore lint/suspicious/noExplicitAny: the responses have many shapes, and each assertion states the one it expects
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

  it('validates bodies strictly, naming the field and index, without coercing values', async () => {
    const withPixel = (value: unknown) => ({ pixels: pixels(0).map((v, i) => (i === 3 ? value : v)) });
    for (const value of [null, '7', 7.5, true]) {
      const r = await call('POST', '/predict', withPixel(value));
      expect(r.status).toBe(400);
      expect(r.json.message).toContain('body/pixels/3 must be integer');
    }
    const unknown = await call('POST', '/predict', { pixels: pixels(0), extra: 1 });
    expect([unknown.status, unknown.json.message]).toEqual([400, 'body must NOT have additional properties']);
    const epochs = await call('POST', '/train', { epochs: '3' });
    expect([epochs.status, epochs.json.message]).toEqual([400, 'body/epochs must be integer']);
  });

  it('refuses sizes that do not fit the machine', async () => {
    const wide = await call('POST', '/train', { hidden: [2048, 2048, 2048] });
    expect(wide.status).toBe(400);
    expect(wide.json.error).toMatch(/^body\/hidden: the model would have 10\d{6} parameters, more than the 4000000 allowed$/);
    expect((await call('POST', '/train', { hidden: [4096] })).json.message).toBe('body/hidden/0 must be <= 2048');
    expect((await call('POST', '/train', { batchSize: 5000 })).json.message).toBe('body/batchSize must be <= 4096');
    expect((await call('POST', '/train', { hidden: [8, 8, 8, 8, 8] })).json.message).toBe('body/hidden must NOT have more than 4 items');
    expect((await call('POST', '/train', { workers: availableParallelism() + 1 })).json.message).toBe(`body/workers must be <= ${availableParallelism()}`);
  });

  it('refuses bad requests with 400 or 404', async () => {
    expect((await call('POST', '/predict', { pixels: [1, 2, 3] })).status).toBe(400);
    expect((await call('POST', '/predict', { pixels: pixels(0).map((v, i) => (i === 5 ? 256 : v)) })).status).toBe(400);
    expect((await call('POST', '/train', { epochs: 0 })).status).toBe(400);
    expect((await call('GET', '/train/nope')).status).toBe(404);
    expect((await call('POST', '/train/nope/cancel')).status).toBe(404);
  });
});

describe('example service limits', () => {
  const untilFinished = async (service: Service, id: string) => {
    for (;;) {
      const job = (await service.app.inject({ method: 'GET', url: `/train/${id}` })).json() as JobReport;
      if (job.state !== 'running') return job;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  it('refuses a job beyond maxRunningJobs with 429 and Retry-After, and takes one once a job ended', async () => {
    const service = createService({ maxRunningJobs: 1 });
    const post = (body: object) => service.app.inject({ method: 'POST', url: '/train', payload: body });
    try {
      const first = await post({ epochs: 100, limit: 2000, workers: 0 });
      expect(first.statusCode).toBe(202);
      const refused = await post({ epochs: 1, limit: 100, workers: 0 });
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBe('10');
      expect(refused.json().error).toBe('1 training jobs are running, the most at once; retry later');
      await service.app.inject({ method: 'POST', url: `/train/${first.json().id}/cancel` });
      const next = await post({ epochs: 1, limit: 100, workers: 0 });
      expect(next.statusCode).toBe(202);
      expect((await untilFinished(service, next.json().id)).state).toBe('done');
    } finally {
      await service.app.close();
    }
  }, 30_000);

  it('forgets finished jobs after finishedJobTtlMs', async () => {
    const service = createService({ finishedJobTtlMs: 100 });
    try {
      const { id } = (await service.app.inject({ method: 'POST', url: '/train', payload: { epochs: 1, limit: 100, workers: 0 } })).json();
      expect((await untilFinished(service, id)).state).toBe('done');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const gone = await service.app.inject({ method: 'GET', url: `/train/${id}` });
      expect(gone.statusCode).toBe(404);
      expect(gone.json().error).toBe(`no training job ${id} (finished jobs are kept for 0.1 s)`);
    } finally {
      await service.app.close();
    }
  }, 30_000);

  it('does not grow in memory across jobs, serial and on worker threads (RSS after forced GC, in a child process)', async () => {
    // Jobs alternate between the serial engine and worker threads (the default); each ends with an evaluation on
    // the inference pool, whose threads live on. Node keeps a little of every thread it has run and
    // the service keeps finished jobs' reports, about 0.15 MB a job together; a job's model, data or
    // outputs held on to (by the service, or by a thread that saw their shared memory) is ≥ 0.4 MB a
    // job, 10 MB over the 24 jobs measured.
    const script = `
      import { start } from ${JSON.stringify(new URL('../dist/examples/service.js', import.meta.url).href)};
      const { service, url } = await start(0);
      const rss = [];
      for (let j = 0; j < 36; j++) {
        const r = await fetch(url + '/train', { method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ epochs: 1, limit: 1000, batchSize: 64, ...(j % 2 ? {} : { workers: 0 }) }) });
        const { id } = await r.json();
        for (;;) {
          const job = await (await fetch(url + '/train/' + id)).json();
          if (job.state !== 'running') { if (job.state !== 'done') throw new Error(JSON.stringify(job)); break; }
          await new Promise((s) => setTimeout(s, 10));
        }
        for (let k = 0; k < 3; k++) { globalThis.gc(); await new Promise((s) => setTimeout(s, 10)); }
        rss.push(process.memoryUsage().rss);
      }
      console.log(JSON.stringify(rss));
      await service.app.close();
      process.exit(0);
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { timeout: 150_000 });
    const rss = JSON.parse(stdout.trim().split('\n').pop()!) as number[];
    const growthMB = (rss[35] - rss[11]) / 2 ** 20;
    expect(growthMB, `RSS after each job (MB): ${rss.map((v) => (v / 2 ** 20).toFixed(1)).join(' ')}`).toBeLessThan(10);
  }, 180_000);
});
