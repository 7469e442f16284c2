import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, type Model } from '../src/nn/model.js';
import { TrainingAbortedError } from '../src/train/aborted.js';
import { readCheckpoint } from '../src/train/checkpoint.js';
import type { EpochEvent, TrainOptions } from '../src/train/options.js';
import { type TrainHistory, train } from '../src/train/trainer.js';
import { blobDataset } from './helpers/datasets.js';

const data = blobDataset(300, 12, 3, 5);
const test = blobDataset(90, 12, 3, 5);
const fresh = (norm: 'none' | 'batch' = 'none') => createModel({ layers: [12, 16, 3], norm }, { seed: 3 });
let dir: string;
beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'fcnn-checkpoint-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The history without its timing fields, which no two runs share. */
const untimed = (epochs: EpochEvent[]) => epochs.map(({ seconds: _s, samplesPerSec: _r, ...rest }) => rest);
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Trains with `options`, aborting once `abortAfterSteps` steps have been taken; resolves with the rejection. */
async function interrupted(model: Model, options: TrainOptions, abortAfterSteps: number): Promise<TrainingAbortedError> {
  const controller = new AbortController();
  let steps = 0;
  const error = await train(model, data, {
    ...options,
    signal: controller.signal,
    onStep: () => {
      if (++steps === abortAfterSteps) controller.abort();
    },
  }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TrainingAbortedError);
  return error as TrainingAbortedError;
}

describe('interrupt and resume', () => {
  const cases: [string, TrainOptions, 'none' | 'batch'][] = [
    ['serial, adam, cosine schedule', { workers: 0, optimizer: 'adam', schedule: 'cosine,warmup:3' }, 'none'],
    ['2 workers, momentum, step schedule', { workers: 2, optimizer: 'momentum', schedule: 'step:1:0.5' }, 'none'],
    ['serial, BatchNorm, adamw', { workers: 0, optimizer: 'adamw' }, 'batch'],
  ];
  for (const [name, extra, norm] of cases) {
    it(`gives the uninterrupted run's parameters and history bit for bit (${name})`, async () => {
      const options: TrainOptions = { epochs: 4, batchSize: 32, lr: 0.01, evalData: test, seed: 7, ...extra };
      const reference = fresh(norm);
      const whole = await train(reference, data, options);

      const path = join(dir, `resume-${name.replace(/\W+/g, '-')}.safetensors`);
      const first = fresh(norm);
      // 10 steps an epoch: abort in the middle of epoch 3.
      const error = await interrupted(first, { ...options, checkpoint: { path } }, 25);
      expect(error.checkpoint).toBe(path);
      expect(error.history.stopReason).toBe('aborted');
      expect(untimed(error.history.epochs)).toEqual(untimed(whole.epochs.slice(0, 2)));
      expect(error.message).toMatch(/aborted after epoch 2; the checkpoint is .*resume-/);

      const second = fresh(norm);
      const resumed = await train(second, data, { resume: path, evalData: test, workers: extra.workers });
      expect(bits(second.params)).toEqual(bits(reference.params));
      expect(bits(second.buffers)).toEqual(bits(reference.buffers));
      expect(untimed(resumed.epochs)).toEqual(untimed(whole.epochs));
      expect(resumed.stopReason).toBe('completed');
      expect(resumed.options.lr).toBe(0.01);
    });
  }

  it('resumes a finished run with more epochs as one longer run', async () => {
    const options: TrainOptions = { batchSize: 50, workers: 0, optimizer: 'adam', lr: 0.01, seed: 2 };
    const reference = fresh();
    const whole = await train(reference, data, { ...options, epochs: 5 });
    const path = join(dir, 'longer.safetensors');
    const model = fresh();
    const short = await train(model, data, { ...options, epochs: 2, checkpoint: { path, everyEpochs: 5 } });
    expect(short.checkpoint).toBe(path); // the last epoch is always written
    const longerModel = fresh();
    const longer = await train(longerModel, data, { resume: path, epochs: 5 });
    expect(untimed(longer.epochs)).toEqual(untimed(whole.epochs));
    expect(bits(longerModel.params)).toEqual(bits(reference.params));
  });

  it('leaves the model at the last completed epoch when aborted, with or without a checkpoint', async () => {
    const options: TrainOptions = { epochs: 3, batchSize: 30, workers: 0, seed: 4 };
    const twoEpochs = fresh();
    await train(twoEpochs, data, { ...options, epochs: 2 });
    const model = fresh();
    const error = await interrupted(model, options, 25);
    expect(error.checkpoint).toBeNull();
    expect(error.name).toBe('AbortError');
    expect(error.history.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(bits(model.params)).toEqual(bits(twoEpochs.params));
  });

  it('writes every everyEpochs epochs, and the checkpoint holds the whole state', async () => {
    const path = join(dir, 'every.safetensors');
    const epochsWritten: number[] = [];
    await train(fresh(), data, {
      epochs: 5,
      batchSize: 64,
      workers: 0,
      optimizer: 'adam',
      checkpoint: { path, everyEpochs: 2, context: { who: 'test' } },
      onEpoch: () =>
        void readCheckpoint(path).then(
          (c) => epochsWritten.push(c.state.epoch),
          () => epochsWritten.push(0),
        ),
    });
    const c = await readCheckpoint(path);
    expect(c.state.epoch).toBe(5);
    expect(c.state.applied).toBe(25);
    expect(c.optimizerState).toHaveLength(2);
    expect(c.state.history).toHaveLength(5);
    expect(c.state.context).toEqual({ who: 'test' });
    expect(c.state.normalization).toEqual({ scale: 1 / 255 });
    expect(c.state.options).toMatchObject({ batchSize: 64, optimizer: { kind: 'adam' }, epochs: 5 });
    expect([...c.order].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(c.order.some((v, i) => v !== i)).toBe(true); // shuffled
  });

  it('refuses options that contradict the checkpoint, naming the option', async () => {
    const path = join(dir, 'refuse.safetensors');
    await train(fresh(), data, { epochs: 3, batchSize: 32, workers: 0, optimizer: 'momentum', lr: 0.05, checkpoint: { path } });
    const resume = (options: TrainOptions, model = fresh(), d = data) => train(model, d, { resume: path, workers: 0, ...options });
    await expect(resume({ batchSize: 64 })).rejects.toThrow(
      /^batchSize 64 contradicts the checkpoint .*refuse\.safetensors, which was trained with batchSize 32/,
    );
    await expect(resume({ optimizer: 'adam' })).rejects.toThrow(/^optimizer .*"adam".* contradicts the checkpoint/);
    await expect(resume({ lr: 0.1 })).rejects.toThrow(/^lr 0\.1 contradicts/);
    await expect(resume({ seed: 9 })).rejects.toThrow(/^seed 9 contradicts/);
    await expect(resume({ schedule: 'cosine' })).rejects.toThrow(/^schedule .* contradicts/);
    await expect(resume({ precision: 'bf16' })).rejects.toThrow(/^precision "bf16"/); // contradicts, or this CPU lacks bf16
    await expect(resume({ earlyStopping: { patience: 2 } })).rejects.toThrow(/^earlyStopping .* contradicts/);
    await expect(resume({ epochs: 2 })).rejects.toThrow(/^epochs 2 is fewer than the 3 the checkpoint .* has completed/);
    await expect(resume({}, createModel({ layers: [12, 8, 3] }))).rejects.toThrow(
      /^layers \[12,8,3\] contradicts the checkpoint .*whose model has layers \[12,16,3\]/,
    );
    await expect(resume({}, createModel({ layers: [12, 16, 3], activation: 'tanh' }))).rejects.toThrow(/^activation "tanh" contradicts/);
    await expect(resume({}, fresh(), blobDataset(200, 12, 3, 5))).rejects.toThrow(/^training data has 200 samples but the checkpoint .* was trained on 300/);
    await expect(resume({ resume: join(dir, 'missing.safetensors') })).rejects.toThrow(/missing\.safetensors: file not found/);
    // What may change: more epochs, the workers, nonFinite.
    const more = await resume({ epochs: 4, workers: 2, nonFinite: 'skip' });
    expect(more.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
  });

  it('refuses a model file as a checkpoint, and a checkpoint as a model file', async () => {
    const { save, load } = await import('../src/api/model-file.js');
    const modelPath = join(dir, 'a-model.safetensors');
    await save(fresh(), modelPath);
    await expect(train(fresh(), data, { resume: modelPath })).rejects.toThrow(/__metadata__\.format is "fcnn\/1", expected "fcnn-checkpoint\/1"/);
    const path = join(dir, 'a-checkpoint.safetensors');
    await train(fresh(), data, { epochs: 1, workers: 0, checkpoint: { path } });
    await expect(load(path)).rejects.toThrow(/__metadata__\.format is "fcnn-checkpoint\/1", expected "fcnn\/1"/);
  });

  it('refuses a checkpoint whose data was damaged', async () => {
    const path = join(dir, 'damaged.safetensors');
    await train(fresh(), data, { epochs: 1, workers: 0, optimizer: 'adam', checkpoint: { path } });
    const bytes = await readFile(path);
    bytes[bytes.length - 5] ^= 0x10; // inside the last tensor (the sample order or a state slab)
    await writeFile(path, bytes);
    await expect(train(fresh(), data, { resume: path })).rejects.toThrow(/does not match its checksum .* the file is corrupt/);
  });
});

describe('early stopping', () => {
  /** Loss goes down for ever on separable blobs: testAccuracy plateaus at 1 instead. */
  const options: TrainOptions = { epochs: 40, batchSize: 30, workers: 0, lr: 0.05, evalData: test };

  it('stops after patience epochs without improvement and restores the best epoch', async () => {
    const model = fresh();
    const bestSeen: Float32Array[] = [];
    const history = await train(model, data, {
      ...options,
      earlyStopping: { monitor: 'testAccuracy', patience: 3 },
      onEpoch: () => bestSeen.push(model.params.slice()),
    });
    expect(history.stopReason).toBe('early-stopping');
    const accuracies = history.epochs.map((e) => e.testAccuracy!);
    const best = Math.max(...accuracies);
    expect(history.bestEpoch).toBe(accuracies.indexOf(best) + 1);
    expect(history.epochs.length).toBe(history.bestEpoch! + 3);
    expect(history.epochs.length).toBeLessThan(40);
    expect(bits(model.params)).toEqual(bits(bestSeen[history.bestEpoch! - 1]));
  });

  it('keeps the last parameters with restoreBest false, and runs to the end while improving', async () => {
    const model = fresh();
    const history = await train(model, data, { ...options, earlyStopping: { monitor: 'testAccuracy', patience: 3, restoreBest: false } });
    const reference = fresh();
    await train(reference, data, { ...options, epochs: history.epochs.length });
    expect(bits(model.params)).toEqual(bits(reference.params));
    const improving = await train(fresh(), data, { ...options, epochs: 5, earlyStopping: { monitor: 'loss', patience: 5 } });
    expect(improving.stopReason).toBe('completed');
    expect(improving.epochs).toHaveLength(5);
  });

  it('counts an improvement only beyond minDelta', async () => {
    const history = await train(fresh(), data, { ...options, earlyStopping: { monitor: 'testLoss', patience: 2, minDelta: 10 } });
    expect(history.stopReason).toBe('early-stopping');
    expect(history.bestEpoch).toBe(1);
    expect(history.epochs).toHaveLength(3);
  });

  it('resumes an early-stopped run in the middle exactly', async () => {
    const es = { monitor: 'testAccuracy', patience: 3 };
    const reference = fresh();
    const whole = await train(reference, data, { ...options, earlyStopping: es });
    const path = join(dir, 'early.safetensors');
    const model = fresh();
    await interrupted(model, { ...options, earlyStopping: es, checkpoint: { path } }, 25);
    const resumed = await train(fresh(), data, { resume: path, evalData: test, workers: 0 });
    expect(resumed.stopReason).toBe('early-stopping');
    expect(resumed.bestEpoch).toBe(whole.bestEpoch);
    expect(untimed(resumed.epochs)).toEqual(untimed(whole.epochs));
    const again = fresh();
    await train(again, data, { resume: path, evalData: test, workers: 0 });
    expect(bits(again.params)).toEqual(bits(reference.params));
  });

  it('refuses monitors that an epoch event does not have, and bad settings, naming the option', async () => {
    const run = (earlyStopping: object, evalData: TrainOptions['evalData'] | null = test) =>
      train(fresh(), data, { ...options, evalData: evalData ?? undefined, earlyStopping } as TrainOptions);
    await expect(run({ monitor: 'val_loss' })).rejects.toThrow(
      /^earlyStopping\.monitor must be a metric of the epoch event \(loss, trainAccuracy, testLoss, testAccuracy, testMse, testMae, testR2, testF1\), got "val_loss"/,
    );
    await expect(run({ monitor: 'seconds' })).rejects.toThrow(/^earlyStopping\.monitor must be/);
    await expect(run({ monitor: 'testAccuracy' }, null)).rejects.toThrow(/^earlyStopping\.monitor "testAccuracy" is measured on evalData, which is not given/);
    await expect(run({ patience: 0 })).rejects.toThrow(/^earlyStopping\.patience must be a positive integer, got 0/);
    await expect(run({ minDelta: -1 })).rejects.toThrow(/^earlyStopping\.minDelta must be a non-negative number/);
    await expect(train(fresh(), data, { checkpoint: { path: '' } })).rejects.toThrow(/^checkpoint\.path must be a file name/);
    await expect(train(fresh(), data, { checkpoint: { path: 'x', everyEpochs: 0 } })).rejects.toThrow(/^checkpoint\.everyEpochs must be a positive integer/);
  });
});

describe('the abort error', () => {
  it('carries the history of the completed epochs, whatever engine', async () => {
    for (const workers of [0, 2]) {
      const error = await interrupted(fresh(), { epochs: 5, batchSize: 30, workers }, 15);
      const history: TrainHistory = error.history;
      expect(history.epochs.map((e) => e.epoch)).toEqual([1]);
      expect(history.stopReason).toBe('aborted');
      expect(error.cause).toMatchObject({ name: 'AbortError' });
    }
  });
});
