// The data-parallel engine's behaviour beyond the arithmetic: BatchNorm per shard, non-finite
// steps, failures of a worker, abort, close, and a main thread that stays responsive.
// Worker threads run dist/, which test/global-setup.ts compiles.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { Dataset } from '../src/data/dataset.js';
import { view } from '../src/nn/layout.js';
import { type Model, createModel } from '../src/nn/model.js';
import { Network } from '../src/nn/network.js';
import { referenceLoss } from '../src/nn/reference.js';
import type { StepOutcome } from '../src/train/engine.js';
import { EngineClosedError, NonFiniteError, type NonFiniteReport, WorkerFailedError } from '../src/errors.js';
import { DataParallelEngine } from '../src/train/parallel/engine.js';
import type { FaultForTesting } from '../src/train/parallel/protocol.js';
import { SerialEngine, identity } from '../src/train/serial.js';
import { train } from '../src/train/trainer.js';
import { arrayData } from './helpers/arrays.js';
import { blobDataset, engineSetup, expectThreadsBackTo, processThreads } from './helpers/datasets.js';
import { relativeError } from './helpers/models.js';

/** Samples [begin, end) of a Dataset as float64 rows and int labels, for the float64 reference. */
function rows(data: Dataset, begin: number, end: number): { x: Float64Array; labels: Int32Array } {
  const x = new Float64Array((end - begin) * data.width);
  for (let i = 0; i < x.length; i++) x[i] = data.images[begin * data.width + i] * data.normalization.scale;
  return { x, labels: Int32Array.from(data.labels!.subarray(begin, end)) };
}

/** Per-feature mean and unbiased variance of the first layer's pre-activation over samples [begin, end), in float64. */
function statistics(data: Dataset, model: Model, params: Float32Array, begin: number, end: number) {
  const layer = model.layout.layers[0];
  const w = view(params, layer.weight);
  const b = view(params, layer.bias);
  const { x } = rows(data, begin, end);
  const n = end - begin;
  const mean = new Float64Array(layer.outputs);
  const variance = new Float64Array(layer.outputs);
  for (let j = 0; j < layer.outputs; j++) {
    const z = Array.from({ length: n }, (_, r) => {
      let sum = b[j];
      for (let k = 0; k < layer.inputs; k++) sum += x[r * layer.inputs + k] * w[j * layer.inputs + k];
      return sum;
    });
    mean[j] = z.reduce((a, v) => a + v, 0) / n;
    variance[j] = z.reduce((a, v) => a + (v - mean[j]) ** 2, 0) / (n - 1);
  }
  return { mean, variance };
}

describe('BatchNorm in the data-parallel engine', () => {
  it('normalizes each shard with its own batch statistics, never a shard of one row', async () => {
    // 8 samples in batches of 5: a step of 5 rows, then one of 3.
    const blobs = blobDataset(8, 6, 3, 3);
    const data = new Dataset({ images: blobs.images, labels: blobs.labels, count: 8, width: 6, classes: 3, source: 'blobs' });
    const spec = { layers: [6, 8, 3], norm: 'batch' as const };
    const model = createModel(spec, { seed: 4 });
    const params = model.params.slice();
    const buffers = model.buffers.slice();
    const engine = await DataParallelEngine.create(engineSetup(model, data, 5), 3);
    try {
      const loss = (b: number, e: number) => {
        const { x, labels } = rows(data, b, e);
        return referenceLoss(model.spec, params, buffers, x, labels, e - b, 'cross-entropy', 'train') * (e - b);
      };
      const outcomes: StepOutcome[] = [];
      const norm = model.layout.layers[0].norm!;
      await engine.epoch({ steps: 1, lr: Float64Array.of(1e-9), stopOnNonFinite: true }, (_, out) => outcomes.push(out));
      const runningMean = view(model.buffers, norm.runningMean!).slice();
      const runningVar = view(model.buffers, norm.runningVar!).slice();
      // 5 rows on 3 workers would leave one a single row: 2 workers take 3 and 2, the third none.
      const perShard = loss(0, 3) + loss(3, 5);
      expect(Math.abs(loss(0, 5) - perShard)).toBeGreaterThan(1e-3); // the test tells them apart
      expect(outcomes[0].lossSum).toBeCloseTo(perShard, 4);
      // The running statistics moved by the mean of the two shards' statistics (momentum 0.1,
      // unbiased variance), from mean 0 and variance 1.
      const [shard0, shard1] = [statistics(data, model, params, 0, 3), statistics(data, model, params, 3, 5)];
      runningMean.forEach((v, j) => expect(v).toBeCloseTo((0.1 * (shard0.mean[j] + shard1.mean[j])) / 2, 5));
      runningVar.forEach((v, j) => expect(v).toBeCloseTo(0.9 + (0.1 * (shard0.variance[j] + shard1.variance[j])) / 2, 4));
      // A whole epoch: the second step's 3 rows go to one worker.
      await engine.epoch({ steps: 2, lr: Float64Array.of(1e-9, 1e-9), stopOnNonFinite: true }, (_, out) => outcomes.push(out));
      expect(outcomes).toHaveLength(3);
      expect(outcomes[2].lossSum).toBeCloseTo(loss(5, 8), 4);
    } finally {
      await engine.close();
    }
  });

  it("sums the shards' gradients, each with its own statistics, for narrow and wide layers alike", async () => {
    // One step of batch 8 on 2 workers, shards [0, 4) and [4, 8); the reference runs each shard
    // alone. (The wide net's weight gradients are computed over the batch, the narrow one's summed
    // over the slots: see batch-weights.ts.)
    const data = blobDataset(8, 6, 3, 7);
    const order = identity(8);
    for (const layers of [
      [6, 8, 3],
      [6, 48, 48, 3],
    ]) {
      const model = createModel({ layers, norm: 'batch' }, { seed: 5 });
      const before = model.params.slice();
      const gradient = new Float32Array(model.layout.paramCount);
      for (const begin of [0, 4]) {
        const grads = new Float32Array(model.layout.paramCount);
        const net = new Network(model, 4, grads, { buffers: model.buffers.slice() });
        data.gather(order, begin, 4, net.input, net.y);
        net.forward(4, 'train');
        net.backward(4, 1 / 8);
        grads.forEach((g, i) => (gradient[i] += g));
      }
      const engine = await DataParallelEngine.create(engineSetup(model, data, 8), 2);
      try {
        await engine.epoch({ steps: 1, lr: Float64Array.of(0.5), stopOnNonFinite: true }, () => {});
      } finally {
        await engine.close();
      }
      expect(relativeError(model.params, before)).toBeGreaterThan(1e-2);
      expect(
        relativeError(
          model.params,
          before.map((p, i) => p - 0.5 * gradient[i]),
        ),
      ).toBeLessThan(1e-4);
    }
  });

  it('BatchNorm trains through batches too small to give every worker 2 rows', async () => {
    const data = blobDataset(23, 6, 3, 9);
    const model = createModel({ layers: [6, 8, 3], norm: 'batch' }, { seed: 4 });
    const history = await train(model, data, { epochs: 2, batchSize: 4, workers: 3, optimizer: 'sgd', lr: 0.05 });
    expect(history.epochs).toHaveLength(2);
    expect(model.params.every(Number.isFinite)).toBe(true);
    expect(model.buffers.every(Number.isFinite)).toBe(true);
  });

  it('evaluates with the running statistics averaged over the workers', async () => {
    const data = blobDataset(90, 6, 3, 5);
    const model = createModel({ layers: [6, 8, 3], norm: 'batch' }, { seed: 6 });
    const initial = model.buffers.slice();
    const history = await train(model, data, { epochs: 2, batchSize: 16, workers: 3, evalData: data, optimizer: 'adam', lr: 0.01 });
    expect(model.buffers).not.toEqual(initial);
    const { x, labels } = rows(data, 0, data.count);
    const reference = referenceLoss(model.spec, model.params, model.buffers, x, labels, data.count, 'cross-entropy', 'eval');
    expect(history.epochs[1].testLoss!).toBeCloseTo(reference, 4);
  });
});

describe("the step's phases", () => {
  it('reduces a gradient it can bound with the update, and checks one it cannot (LayerNorm) before it', async () => {
    // 12-64-48-3 at batch 10: the weights outnumber the batch's layer inputs, so their gradients are
    // computed over the batch (batch-weights.ts).
    const data = blobDataset(40, 12, 3, 2);
    for (const [norm, checked] of [
      ['none', false],
      ['layer', true],
    ] as const) {
      const model = createModel({ layers: [12, 64, 48, 3], norm }, { seed: 1 });
      const engine = await DataParallelEngine.create(engineSetup(model, data, 10), 2);
      try {
        await engine.epoch({ steps: 4, lr: new Float64Array(4).fill(0.01), stopOnNonFinite: true }, () => {});
        expect(engine.timing.reduceSeconds > 0).toBe(checked);
      } finally {
        await engine.close();
      }
    }
  });
});

describe('pieces taken by partners', () => {
  it("give the same bits when a stalled worker's pieces are taken by its partner", async () => {
    // 64-512-256-10 at batch 16: weight gradients over the batch, slices of several pieces. At step 2,
    // worker 1 stalls before it publishes its first layer: worker 0 takes pieces of the layers it did
    // publish while it waits, and more of its slice after.
    const data = blobDataset(64, 64, 10, 3);
    const trained = async (faultForTesting?: FaultForTesting) => {
      const model = createModel({ layers: [64, 512, 256, 10] }, { seed: 2 });
      const engine = await DataParallelEngine.create(engineSetup(model, data, 16, 'adam'), 2, { faultForTesting });
      try {
        await engine.epoch({ steps: 4, lr: new Float64Array(4).fill(0.01), stopOnNonFinite: true }, () => {});
      } finally {
        await engine.close();
      }
      return model.params;
    };
    const steady = await trained();
    const stalled = await trained({ worker: 1, step: 2, kind: 'stall' });
    const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
    expect(bits(stalled)).toEqual(bits(steady));
  });
});

/**
 * The NonFiniteError report of one epoch of [inputs, 3, 2] (linear head, SGD, in order) on blobs, with
 * hidden unit 0's weights set to `hidden` and the head's weights from it to `head`.
 */
async function overflowReport(workers: number, inputs: number, hidden: number, head: number, batchSize: number): Promise<NonFiniteReport> {
  const data = blobDataset(24, inputs, 2, 11);
  const model = createModel({ layers: [inputs, 3, 2], output: 'linear' }, { seed: 3 });
  const [hiddenLayer, headLayer] = model.layout.layers;
  view(model.params, hiddenLayer.weight).fill(hidden, 0, inputs);
  const w = view(model.params, headLayer.weight);
  w[0] = w[3] = head;
  const error = await train(model, data, { epochs: 1, batchSize, shuffle: false, workers, optimizer: 'sgd' }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(NonFiniteError);
  return (error as NonFiniteError).report;
}

describe('non-finite values in the data-parallel engine', () => {
  // Features 0 and 1 are zero except in sample 40, where they are 1: with 3e38 weights on them,
  // that sample's first pre-activation overflows to Infinity, in the second batch of 32.
  function overflowing(): { data: Dataset; model: ReturnType<typeof createModel> } {
    const blobs = blobDataset(64, 4, 2, 10);
    const images = blobs.images.slice();
    for (let i = 0; i < 64; i++) images[i * 4] = images[i * 4 + 1] = i === 40 ? 255 : 0;
    const data = new Dataset({ images, labels: blobs.labels, count: 64, width: 4, classes: 2, source: 'overflow' });
    const model = createModel({ layers: [4, 6, 6, 2] }, { seed: 1 });
    const w = view(model.params, model.layout.layers[0].weight);
    w[0] = w[1] = 3e38;
    return { data, model };
  }

  it('stops with the serial engine report (layer, counts) at the same step', async () => {
    const failure = async (workers: number) => {
      const { data, model } = overflowing();
      const error = await train(model, data, { epochs: 1, batchSize: 32, shuffle: false, workers }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NonFiniteError);
      return error as NonFiniteError;
    };
    const serial = await failure(0);
    expect(serial.message).toMatch(/^epoch 1 step 2: layer 1 pre-activation is not finite/);
    for (const workers of [2, 3]) {
      const parallel = await failure(workers);
      expect(parallel.message).toBe(serial.message);
      expect(parallel.report).toEqual(serial.report);
    }
  });

  it('counts the failing chunk of a shard larger than a training chunk, like the serial engine', async () => {
    // 3000 samples in one full batch: chunks of TRAIN_CHUNK rows in both engines; sample 2500 overflows.
    const count = 3000;
    const blobs = blobDataset(count, 4, 2, 11);
    const images = blobs.images.slice();
    for (let i = 0; i < count; i++) images[i * 4] = images[i * 4 + 1] = i === 2500 ? 255 : 0;
    const failure = async (workers: number) => {
      const data = new Dataset({ images, labels: blobs.labels, count, width: 4, classes: 2, source: 'overflow' });
      const model = createModel({ layers: [4, 6, 2] }, { seed: 1 });
      const w = view(model.params, model.layout.layers[0].weight);
      w[0] = w[1] = 3e38;
      return (await train(model, data, { epochs: 1, batchSize: 'full', shuffle: false, workers }).catch((e: unknown) => e)) as NonFiniteError;
    };
    for (const workers of [0, 2]) {
      const error = await failure(workers);
      expect(error).toBeInstanceOf(NonFiniteError);
      expect(error.report).toMatchObject({ layer: 1, quantity: 'pre-activation', nonFinite: 1 }); // unit 0 of sample 2500
      expect(Number.isFinite(error.report.maxFinite) && error.report.maxFinite > 0).toBe(true);
    }
  });

  it('skips the same steps as the serial engine, on every worker', async () => {
    const result = async (workers: number) => {
      const { data, model } = overflowing();
      const history = await train(model, data, { epochs: 2, batchSize: 32, shuffle: false, workers, nonFinite: 'skip', optimizer: 'sgd' });
      return { history, params: model.params };
    };
    const serial = await result(0);
    const parallel = await result(2);
    expect(serial.history.skippedSteps).toBe(2);
    expect(parallel.history.skippedSteps).toBe(2);
    for (let i = 0; i < serial.params.length; i++) expect(parallel.params[i]).toBeCloseTo(serial.params[i], 5);
  });

  it('reports a non-finite weight gradient whose bias gradients are finite, as the serial engine does', async () => {
    // Unit 0 of the hidden layer is ~1e20 and its output weights 0.1: the prediction (~1e19), the
    // head's dz and the hidden layer's gradients are finite, the head's dW = dzᵀ·x (~1e39) is not.
    // At batch 2 the weights outnumber the batch's layer inputs: dW is computed over the batch.
    const failure = (workers: number) => overflowReport(workers, 4, 1e20, 0.1, 2);
    const serial = await failure(0);
    expect(serial).toMatchObject({ quantity: 'gradient', tensor: 'layers.1.weight', layer: 2 });
    const parallel = await failure(2);
    expect({ ...parallel, maxFinite: 0 }).toEqual({ ...serial, maxFinite: 0 });
  });

  for (const inputs of [4, 2]) {
    it(`reports a non-finite gradient as the serial engine does (${inputs} inputs)`, async () => {
      // Linear head with MSE: unit 0 of the hidden layer is ~1e10 and its output weights 2e26, so the
      // prediction (~1e36) and the loss (in double) are finite but the gradients overflow.
      const failure = (workers: number) => overflowReport(workers, inputs, 1e10, 2e26, 12);
      const serial = await failure(0);
      expect(serial).toMatchObject({ quantity: 'gradient', tensor: 'layers.0.weight', layer: 1 });
      const parallel = await failure(2);
      expect({ ...parallel, maxFinite: 0 }).toEqual({ ...serial, maxFinite: 0 });
      expect(parallel.maxFinite).toBeCloseTo(serial.maxFinite, -Math.floor(Math.log10(serial.maxFinite)) + 4);
    });
  }
});

describe('failures and shutdown', () => {
  const faults = {
    throw: ['throws', 'fault injected for testing at step 8'],
    exit: ['exits', 'worker exited with code: 3'],
    oom: ['runs out of memory', 'Worker terminated due to reaching memory limit: JS heap out of memory'],
  } as const;
  for (const kind of ['throw', 'exit', 'oom'] as const) {
    const [what, why] = faults[kind];
    it(`a worker that ${what} mid-step fails the step within a second, naming it, and leaves no thread`, async () => {
      const before = await processThreads();
      const data = blobDataset(60, 5, 2, 7);
      const model = createModel({ layers: [5, 4, 2] });
      // A small heap, so that the hoarding worker reaches its limit at once.
      const engine = await DataParallelEngine.create(engineSetup(model, data, 12), 3, {
        faultForTesting: { worker: 1, step: 8, kind },
        resourceLimits: kind === 'oom' ? { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 } : undefined,
      });
      // 60 samples in batches of 12: 5 steps an epoch, so step 8 is the third of the second epoch.
      const plan = { steps: 5, lr: new Float64Array(5).fill(0.1), stopOnNonFinite: true };
      const visited: number[] = [];
      await engine.epoch(plan, (s) => visited.push(s));
      expect(visited).toEqual([0, 1, 2, 3, 4]);
      const started = performance.now();
      const error = await engine.epoch(plan, () => {}).catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(1000);
      expect(error).toBeInstanceOf(WorkerFailedError);
      expect(error).toMatchObject({
        name: 'WorkerFailedError',
        code: 'FCNN_WORKER_FAILED',
        worker: 1,
        workers: 3,
        step: 8,
        message: `data-parallel worker 1 of 3 failed during step 8: ${why}`,
      });
      await expect(engine.epoch(plan, () => {})).rejects.toThrow(/worker 1 of 3 failed/);
      await engine.close();
      await engine.close();
      await expectThreadsBackTo(before);
      // The next training run starts a fresh pool and works.
      const history = await train(model, data, { epochs: 1, batchSize: 12, workers: 3 });
      expect(history.epochs[0].loss).toBeGreaterThan(0);
      await expectThreadsBackTo(before);
    });
  }

  it('close() is idempotent, and a closed engine refuses work', async () => {
    const before = await processThreads();
    const data = blobDataset(20, 3, 2, 8);
    const engine = await DataParallelEngine.create(engineSetup(createModel({ layers: [3, 2] }), data, 5), 2);
    await Promise.all([engine.close(), engine.close()]);
    const refusal = engine.epoch({ steps: 1, lr: Float64Array.of(0.1), stopOnNonFinite: true }, () => {});
    await expect(refusal).rejects.toThrow(EngineClosedError);
    await expect(refusal).rejects.toMatchObject({ code: 'FCNN_ENGINE_CLOSED', message: 'the data-parallel engine is closed' });
    await expectThreadsBackTo(before);
  });

  it('refuses an epoch plan that does not fit the data, in both engines', async () => {
    const data = blobDataset(20, 3, 2, 8);
    const setup = engineSetup(createModel({ layers: [3, 2] }), data, 6);
    const parallel = await DataParallelEngine.create(setup, 2);
    try {
      for (const engine of [new SerialEngine(setup), parallel]) {
        const lr = new Float64Array(5);
        await expect(engine.epoch({ steps: 5, lr, stopOnNonFinite: true }, () => {})).rejects.toThrow(
          'an epoch has from 1 to 4 steps (the batches in the data), got 5',
        );
        await expect(engine.epoch({ steps: 0, lr, stopOnNonFinite: true }, () => {})).rejects.toThrow(/got 0$/);
        await expect(engine.epoch({ steps: 3, lr: new Float64Array(2), stopOnNonFinite: true }, () => {})).rejects.toThrow(
          'the plan has 2 learning rates for 3 steps',
        );
      }
      // One epoch at a time: a second one is refused without touching the running one's plan.
      const running = parallel.epoch({ steps: 4, lr: new Float64Array(4).fill(0.1), stopOnNonFinite: true }, () => {});
      const busy = parallel.epoch({ steps: 1, lr: new Float64Array(1).fill(NaN), stopOnNonFinite: true }, () => {});
      await expect(busy).rejects.toThrow('one epoch or evaluation at a time');
      await expect(busy).rejects.toMatchObject({ name: 'EngineBusyError', code: 'FCNN_ENGINE_BUSY' });
      await running;
      expect(setup.model.params.every(Number.isFinite)).toBe(true);
      // The refused plans left the parallel engine usable.
      const seen: number[] = [];
      await parallel.epoch({ steps: 4, lr: new Float64Array(4).fill(0.1), stopOnNonFinite: true }, (s) => seen.push(s));
      expect(seen).toEqual([0, 1, 2, 3]);
    } finally {
      await parallel.close();
    }
  });

  it('refuses data that cannot be shared with worker threads, naming the fix; train() shares a copy of it', async () => {
    const model = createModel({ layers: [2, 2] });
    const data = arrayData(Float32Array.of(0, 1, 1, 0, 1, 1, 0, 0), Int32Array.of(0, 1, 1, 0), 2, 2);
    await expect(DataParallelEngine.create(engineSetup(model, data as never, 2), 2)).rejects.toThrow(/needs training data as a Dataset .* workers: 0/);
    const serial = createModel({ layers: [2, 2] });
    await train(serial, data, { workers: 0, epochs: 2, batchSize: 2 });
    await train(model, data, { workers: 1, epochs: 2, batchSize: 2 });
    expect(model.params).toEqual(serial.params);
  });

  it('an abort mid-epoch rejects at the next step with AbortError and leaves no thread', async () => {
    const before = await processThreads();
    const data = blobDataset(2000, 20, 4, 12);
    const model = createModel({ layers: [20, 16, 4] });
    const controller = new AbortController();
    let stepsAfterAbort = 0;
    const run = train(model, data, {
      epochs: 100,
      batchSize: 8,
      workers: 2,
      signal: controller.signal,
      onStep: (e) => {
        if (controller.signal.aborted) stepsAfterAbort++;
        if (e.step === 5) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(stepsAfterAbort).toBe(0);
    await expectThreadsBackTo(before);
  });

  it('keeps the main event loop responsive while workers train (p99 delay under 20 ms)', async () => {
    const data = blobDataset(4000, 64, 10, 13);
    const model = createModel({ layers: [64, 256, 256, 10] });
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    await train(model, data, { epochs: 2, batchSize: 200, workers: 2 });
    delay.disable();
    expect(delay.count).toBeGreaterThan(20);
    expect(delay.percentile(99) / 1e6).toBeLessThan(20);
  });
});
