// An HTTP service on the fcnn library (fastify): trains MNIST models in the background, reports
// their progress, cancels them, and serves predictions with the latest trained (or a loaded) model.
//
//   node dist/examples/service.js [model.safetensors]     (PORT, HOST from the environment)
//
// The model carries its input normalization (model.schema), so raw 0–255 pixels go to predict as
// they come, for a trained model and for a model file given on the command line alike.
//
//   POST /train             {epochs?, batchSize?, limit?, lr?, hidden?, workers?, seed?} → 202 {id},
//                           or 429 with Retry-After while maxRunningJobs jobs run
//   GET  /train/:id         state, latest epoch and step, final test accuracy (finished jobs expire)
//   POST /train/:id/cancel  aborts a running job
//   POST /predict           {pixels: number[784]} or {pixels: number[784][]} (0–255) → class, probabilities
//   GET  /health
//
// Training and the final evaluation leave the event loop free (the data-parallel trainer and large
// predictions and evaluations run on worker threads; the serial trainer, workers: 0, yields every
// few milliseconds), so /health and small predictions are answered while a model trains.
//
// Bodies are validated strictly: no type coercion (null or "7" is not a pixel), no unknown fields,
// and the error names the field and index. Sizes are capped so that a job fits the machine.
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { type EpochEvent, type Model, type StepEvent, createModel, evaluate, load, loadMnist, predict, takeFirst, train } from '../src/index.js';

export interface ServedModel {
  model: Model;
  /** "job <id>" or the file it was loaded from. */
  source: string;
}

export interface TrainRequest {
  epochs: number;
  batchSize: number;
  /** Train on the first `limit` MNIST training images (all 60000 when absent). */
  limit?: number;
  lr: number;
  /** Hidden layer widths between the 784 inputs and the 10 classes. */
  hidden: number[];
  /** Threads of the trainer; default: one per core. 0: the serial engine, on the event loop between requests. */
  workers?: number;
  seed: number;
}

export type JobState = 'running' | 'done' | 'failed' | 'cancelled';

export interface JobReport {
  id: string;
  state: JobState;
  request: TrainRequest;
  /** The latest epoch's event, once an epoch has ended. */
  epoch: EpochEvent | null;
  /** Progress within the current epoch. */
  step: Pick<StepEvent, 'epoch' | 'step' | 'stepsPerEpoch' | 'loss'> | null;
  /** On the 10000 MNIST test images, once trained. */
  test: { loss: number; accuracy: number } | null;
  error: string | null;
}

interface Job extends JobReport {
  controller: AbortController;
  finished: Promise<void>;
}

export interface ServiceOptions {
  /** Served until a training job finishes (e.g. a model loaded with load()). */
  model?: ServedModel;
  logger?: boolean;
  /** Training jobs that may run at once; more are refused with 429. Default 2. */
  maxRunningJobs?: number;
  /** How long a finished job's report is kept, in ms. Default 10 minutes. */
  finishedJobTtlMs?: number;
  /** At most this many finished jobs are kept (the oldest go first). Default 100. */
  maxFinishedJobs?: number;
}

export interface Service {
  app: FastifyInstance;
  /** The model /predict answers with, null until one is trained or given. */
  readonly served: ServedModel | null;
}

const PIXELS = 784;
const CLASSES = 10;
/** A JSON batch of this many images is about 3 MB. */
const MAX_BATCH = 1000;

/**
 * Sizes that fit the machine: a model of at most MAX_PARAMETERS parameters keeps its parameters,
 * gradients and optimizer state in tens of MB, and a batch of at most MAX_BATCH_SIZE rows of 2048
 * units its activations in tens of MB per worker.
 */
const MAX_PARAMETERS = 4_000_000;
const MAX_BATCH_SIZE = 4096;
const MAX_WIDTH = 2048;
/** Seconds a client refused for too many running jobs is told to wait. */
const RETRY_AFTER_S = 10;

const pixelRow = { type: 'array', minItems: PIXELS, maxItems: PIXELS, items: { type: 'integer', minimum: 0, maximum: 255 } } as const;

const trainSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      epochs: { type: 'integer', minimum: 1, maximum: 100, default: 1 },
      batchSize: { type: 'integer', minimum: 1, maximum: MAX_BATCH_SIZE, default: 64 },
      limit: { type: 'integer', minimum: 1, maximum: 60000 },
      lr: { type: 'number', exclusiveMinimum: 0, maximum: 10, default: 0.05 },
      hidden: { type: 'array', maxItems: 4, items: { type: 'integer', minimum: 1, maximum: MAX_WIDTH }, default: [128] },
      workers: { type: 'integer', minimum: 0, maximum: availableParallelism() },
      seed: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1, default: 1 },
    },
  },
} as const;

const predictSchema = {
  body: {
    type: 'object',
    required: ['pixels'],
    additionalProperties: false,
    properties: { pixels: { anyOf: [pixelRow, { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: pixelRow }] } },
  },
} as const;

export function createService(options: ServiceOptions = {}): Service {
  const { maxRunningJobs = 2, finishedJobTtlMs = 10 * 60_000, maxFinishedJobs = 100 } = options;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 16 << 20,
    // Fastify's defaults coerce types ("7" and null become pixels) and drop unknown fields silently.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  const jobs = new Map<string, Job>();
  /** Finished jobs, oldest first, each with the time it expires. */
  const finished = new Map<string, number>();
  let served: ServedModel | null = options.model ?? null;
  if (served && (served.model.inputs !== PIXELS || served.model.classes !== CLASSES))
    throw new RangeError(`the service serves MNIST models (${PIXELS} inputs, ${CLASSES} classes), got ${served.model.spec.layers.join('-')}`);
  let mnist: ReturnType<typeof loadMnist> | null = null;

  async function runJob(job: Job): Promise<void> {
    const { request, controller } = job;
    try {
      mnist ??= loadMnist();
      const { train: trainImages, test } = await mnist;
      const data = request.limit ? takeFirst(trainImages, request.limit) : trainImages;
      const model = createModel({ layers: [PIXELS, ...request.hidden, CLASSES] }, { seed: request.seed });
      await train(model, data, {
        epochs: request.epochs,
        batchSize: request.batchSize,
        optimizer: { kind: 'momentum', momentum: 0.9 },
        lr: request.lr,
        seed: request.seed,
        workers: request.workers,
        signal: controller.signal,
        onStep: (e) => (job.step = { epoch: e.epoch, step: e.step, stepsPerEpoch: e.stepsPerEpoch, loss: e.loss }),
        onEpoch: (e) => (job.epoch = e),
      });
      const { loss, accuracy } = await evaluate(model, test);
      controller.signal.throwIfAborted();
      job.test = { loss, accuracy };
      served = { model, source: `job ${job.id}` };
      job.state = 'done';
    } catch (err) {
      job.state = controller.signal.aborted ? 'cancelled' : 'failed';
      if (job.state === 'failed') job.error = (err as Error).message;
    }
    finished.set(job.id, Date.now() + finishedJobTtlMs);
    expire();
  }

  /** Forgets finished jobs past their time, and the oldest beyond maxFinishedJobs. */
  function expire(): void {
    const now = Date.now();
    for (const [id, expires] of finished) {
      if (expires > now && finished.size <= maxFinishedJobs) break;
      finished.delete(id);
      jobs.delete(id);
    }
  }
  const expiry = setInterval(expire, Math.min(finishedJobTtlMs, 60_000));
  expiry.unref();

  const running = () => jobs.size - finished.size;
  const notFound = (id: string) => ({ error: `no training job ${id} (finished jobs are kept for ${finishedJobTtlMs / 1000} s)` });

  app.get('/health', async () => ({
    status: 'ok',
    model: served?.source ?? null,
    running: running(),
  }));

  app.post<{ Body: Partial<TrainRequest> }>('/train', { schema: trainSchema }, async (request, reply) => {
    const parameters = parameterCount([PIXELS, ...(request.body.hidden ?? []), CLASSES]);
    if (parameters > MAX_PARAMETERS)
      return reply.code(400).send({ error: `body/hidden: the model would have ${parameters} parameters, more than the ${MAX_PARAMETERS} allowed` });
    if (running() >= maxRunningJobs)
      return reply
        .code(429)
        .header('retry-after', String(RETRY_AFTER_S))
        .send({ error: `${running()} training jobs are running, the most at once; retry later` });
    const job: Job = {
      id: randomUUID(),
      state: 'running',
      request: request.body as TrainRequest,
      epoch: null,
      step: null,
      test: null,
      error: null,
      controller: new AbortController(),
      finished: Promise.resolve(),
    };
    jobs.set(job.id, job);
    job.finished = runJob(job);
    return reply.code(202).send({ id: job.id, state: job.state });
  });

  app.get<{ Params: { id: string } }>('/train/:id', async (request, reply) => {
    const job = jobs.get(request.params.id);
    if (!job) return reply.code(404).send(notFound(request.params.id));
    return report(job);
  });

  app.post<{ Params: { id: string } }>('/train/:id/cancel', async (request, reply) => {
    const job = jobs.get(request.params.id);
    if (!job) return reply.code(404).send(notFound(request.params.id));
    if (job.state !== 'running') return reply.code(409).send({ error: `job ${job.id} is ${job.state}` });
    job.controller.abort();
    await job.finished;
    return report(job);
  });

  app.post<{ Body: { pixels: number[] | number[][] } }>('/predict', { schema: predictSchema }, async (request, reply) => {
    const current = served;
    if (!current) return reply.code(503).send({ error: 'no model yet: train one with POST /train' });
    const { pixels } = request.body;
    const batch = Array.isArray(pixels[0]);
    const rows = (batch ? pixels : [pixels]) as number[][];
    // Rows as they came: a large batch is copied into the inference pool's own shared memory, where
    // a Dataset per request would leave the pool's threads its memory to collect.
    const { classes, probabilities } = await predict(current.model, rows);
    const answers = rows.map((_, r) => ({
      class: classes[r],
      probabilities: Array.from(probabilities.subarray(r * CLASSES, (r + 1) * CLASSES)),
    }));
    return batch ? { model: current.source, predictions: answers } : { model: current.source, ...answers[0] };
  });

  // Closing the server ends the running jobs too, so that nothing trains on after it.
  app.addHook('onClose', async () => {
    clearInterval(expiry);
    for (const job of jobs.values()) job.controller.abort();
    await Promise.all([...jobs.values()].map((j) => j.finished));
  });

  return {
    app,
    get served() {
      return served;
    },
  };
}

/** Weights and biases of dense layers of these widths. */
function parameterCount(layers: number[]): number {
  let count = 0;
  for (let i = 1; i < layers.length; i++) count += (layers[i - 1] + 1) * layers[i];
  return count;
}

function report(job: Job): JobReport {
  const { id, state, request, epoch, step, test, error } = job;
  return { id, state, request, epoch, step, test, error };
}

/** Starts the service on host:port (port 0: any free port) and says where it listens. */
export async function start(port: number, host = '127.0.0.1', options: ServiceOptions = {}): Promise<{ service: Service; url: string }> {
  const service = createService(options);
  const url = await service.app.listen({ port, host });
  return { service, url };
}

async function main(): Promise<void> {
  const modelPath = process.argv[2];
  const model = modelPath ? { model: await load(modelPath), source: modelPath } : undefined;
  const { service, url } = await start(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', { model, logger: true });
  console.log(`fcnn service listening on ${url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void service.app.close());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
