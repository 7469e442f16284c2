// The data-parallel engine: W long-lived Piscina tasks, one per thread, each looping on a shared
// control block (protocol.ts). A step is one store and notify by the main thread; the workers
// split the batch, meet at barriers and reduce-scatter the gradient among themselves, and the last
// to finish wakes the main thread, which waits with Atomics.waitAsync and so never blocks its event
// loop. Parameters, optimizer state, gradient slots, order and data all live in shared memory.
//
// BatchNorm normalizes each shard with the shard's own statistics (as PyTorch's DataParallel does),
// and no shard of a BatchNorm model has fewer than 2 rows. Each worker moves its own copy of the
// running statistics with its shard's statistics; after every step the engine averages the copies
// of the workers that had rows into model.buffers and restarts every copy from that average, so
// the running statistics move by the mean of the shards' statistics.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { SharedDataset } from '../../data/dataset.js';
import { sharedFloats } from '../../nn/model.js';
import type { TrainingData } from '../data.js';
import type { Engine, EngineSetup, Evaluation, StepOutcome } from '../engine.js';
import { type NonFiniteReport, inspectGradients } from '../guard.js';
import { identity } from '../serial.js';
import { activeWorkers, minShardRows } from './partition.js';
import { type WorkerPool, createPool } from './pool.js';
import { Command, Control, type FaultForTesting, LOSS_KEY, LR, Result, type TrainTask, Word } from './protocol.js';

/**
 * How long a worker polls a shared word before sleeping on it: long enough to cover the main
 * thread's turn between two steps and the usual imbalance at a barrier, so that a step costs no
 * futex wake-up (measured: 2 workers, 784-128-10 at batch 128, a median step of 655 µs polling 200 µs,
 * 528 µs polling 1000 µs, 793 µs sleeping at once). A worker left idle burns at most this much CPU.
 */
const SPIN_MICROS = 1000;

type WaitAsync = (
  array: Int32Array, index: number, value: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
// ES2024, in Node since 16; not yet in this project's ES2022 type library.
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Totals over the applied steps, for benchmarks: where a step's time goes. */
export interface ParallelTiming {
  steps: number;
  /** Main thread: from posting the step to learning it finished. */
  wallSeconds: number;
  /** The slowest worker's gather, forward and backward, summed over steps. */
  gradientSeconds: number;
  /** The slowest worker's reduce and check of its slice, summed over steps. */
  reduceSeconds: number;
  /** The slowest worker's optimizer update of its slice, summed over steps. */
  updateSeconds: number;
}

export class DataParallelEngine implements Engine {
  readonly timing: ParallelTiming = { steps: 0, wallSeconds: 0, gradientSeconds: 0, reduceSeconds: 0, updateSeconds: 0 };
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;
  private readonly tasks: Promise<void>[];
  private sequence = 0;
  private busy = false;
  private activity = 'while starting';
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;
  private destroying: Promise<void> | null = null;
  /** Fewest rows of a training shard (2 with BatchNorm). */
  private readonly minRows: number;

  private constructor(
    private readonly setup: EngineSetup,
    readonly workers: number,
    private readonly pool: WorkerPool,
    private readonly control: Control,
    /** Slot 0, where the workers reduce the gradient: a non-finite gradient is reported from it. */
    private readonly gradient: Float32Array,
    /** The workers' private running statistics, bufferCount floats each. */
    private readonly buffers: Float32Array,
    tasks: TrainTask[],
  ) {
    this.ints = control.ints;
    this.floats = control.floats;
    this.minRows = minShardRows(setup.model.spec);
    this.tasks = tasks.map((task, w) =>
      pool.run(task).then(
        () => this.fail(w, new Error('its task ended before the engine closed')),
        (err: unknown) => this.fail(w, err instanceof Error ? err : new Error(String(err))),
      ),
    );
  }

  /**
   * Starts `workers` threads and resolves once all are ready. The model's slabs, the order and the
   * optimizer state must be on SharedArrayBuffers, and the data sets must be shareable (Dataset).
   * `testing.faultForTesting` makes a worker throw or exit at a step, for the failure tests.
   */
  static async create(setup: EngineSetup, workers: number, testing: { faultForTesting?: FaultForTesting } = {}): Promise<DataParallelEngine> {
    if (!(Number.isInteger(workers) && workers >= 1)) throw new RangeError(`workers must be a positive integer, got ${workers}`);
    const { model, optimizerState, order } = setup;
    for (const [name, a] of [['model.params', model.params], ['model.buffers', model.buffers], ['order', order], ...optimizerState.map((s, i) => [`optimizerState[${i}]`, s] as const)] as const)
      if (!(a.buffer instanceof SharedArrayBuffer)) throw new TypeError(`the data-parallel engine needs ${name} on a SharedArrayBuffer`);
    const data = shareable('training data', setup.data);
    const evalData = setup.evalData ? shareable('evalData', setup.evalData) : null;

    const { paramCount, bufferCount } = model.layout;
    const control = Control.create(workers);
    const slots = sharedFloats(workers * paramCount);
    const buffers = sharedFloats(workers * bufferCount);
    for (let w = 0; w < workers; w++) buffers.set(model.buffers, w * bufferCount);
    const base: Omit<TrainTask, 'index'> = {
      kind: 'train',
      workers,
      spec: model.spec,
      params: model.params,
      buffers,
      slots,
      optimizer: setup.optimizer,
      optimizerState,
      order,
      evalOrder: setup.evalData ? identity(setup.evalData.count) : null,
      data,
      evalData,
      batchSize: setup.batchSize,
      control: control.buffer,
      // Polling helps only while every worker has a core of its own.
      spinMicros: workers <= availableParallelism() ? SPIN_MICROS : 0,
      faultForTesting: testing.faultForTesting,
    };
    const pool = createPool(workers);
    const tasks = Array.from({ length: workers }, (_, index) => ({ ...base, index }));
    const engine = new DataParallelEngine(setup, workers, pool, control, slots.subarray(0, paramCount), buffers, tasks);
    try {
      await engine.waitFor(Word.Ready, workers);
    } catch (err) {
      await engine.close();
      throw err;
    }
    engine.activity = 'while idle';
    return engine;
  }

  async step(start: number, count: number, lr: number, step: number): Promise<StepOutcome> {
    const { ints, floats, control } = this;
    if (!(Number.isInteger(count) && count >= 1 && count <= this.setup.batchSize))
      throw new RangeError(`count must be an integer from 1 to the batch size ${this.setup.batchSize}, got ${count}`);
    ints[Word.Start] = start;
    ints[Word.Count] = count;
    ints[Word.Step] = step;
    floats[LR] = lr;
    const t0 = performance.now();
    await this.command(Command.Step, `during step ${step}`);
    const wall = (performance.now() - t0) / 1000;

    let lossSum = 0;
    let correct = 0;
    for (let w = 0; w < this.workers; w++) {
      lossSum += floats[control.result(w, Result.LossSum)];
      correct += floats[control.result(w, Result.Correct)];
    }
    const active = activeWorkers(count, this.workers, this.minRows);
    this.averageBuffers(active);
    const nonFinite = this.forwardReport() ?? this.gradientReport();
    if (!nonFinite) this.record(wall);
    return { lossSum, correct, nonFinite };
  }

  async evaluate(): Promise<Evaluation> {
    const data = this.setup.evalData;
    if (!data) return { lossSum: 0, correct: 0, count: 0 };
    await this.command(Command.Evaluate, 'during evaluation');
    let lossSum = 0;
    let correct = 0;
    for (let w = 0; w < this.workers; w++) {
      lossSum += this.floats[this.control.result(w, Result.LossSum)];
      correct += this.floats[this.control.result(w, Result.Correct)];
    }
    return { lossSum, correct, count: data.count };
  }

  /** Ends the workers' tasks and destroys the pool; idempotent. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    if (this.failure === null && !this.busy) {
      this.ints[Word.Command] = Command.Exit;
      Atomics.store(this.ints, Word.Go, ++this.sequence);
      Atomics.notify(this.ints, Word.Go);
      await Promise.all(this.tasks);
    } else {
      // A command in flight (or a failed worker): release everyone and fail the command.
      this.failure ??= new Error(`the data-parallel engine was closed ${this.activity}`);
      this.abort();
    }
    await this.destroy();
  }

  /** Posts a command and waits, without blocking the event loop, until every worker finished it. */
  private async command(command: Command, activity: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.closing) throw new Error('the data-parallel engine is closed');
    if (this.busy) throw new Error('the data-parallel engine runs one step or evaluation at a time');
    this.busy = true;
    this.activity = activity;
    try {
      this.ints[Word.Command] = command;
      const sequence = ++this.sequence;
      Atomics.store(this.ints, Word.Go, sequence);
      Atomics.notify(this.ints, Word.Go);
      await this.waitFor(Word.Finished, sequence);
    } finally {
      this.busy = false;
      this.activity = 'while idle';
    }
  }

  /** Resolves when ints[word] reaches target; rejects as soon as a worker failed. */
  private async waitFor(word: Word, target: number): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      const value = Atomics.load(this.ints, word);
      if (value >= target) return;
      const wait = waitAsync(this.ints, word, value);
      if (wait.async) await wait.value;
    }
  }

  /** A worker's task rejected (it threw, or its thread exited) or returned unexpectedly. */
  private fail(w: number, cause: Error): void {
    if (this.closing && this.failure === null) return; // the tasks end because close() ended them
    this.failure ??= new Error(`data-parallel worker ${w} of ${this.workers} failed ${this.activity}: ${cause.message}`, { cause });
    this.abort();
    void this.destroy();
  }

  /** Raises the abort flag and wakes every waiter, workers and main thread alike. */
  private abort(): void {
    const { ints } = this;
    Atomics.store(ints, Word.Abort, 1);
    for (const word of [Word.Go, Word.BarrierGeneration]) Atomics.add(ints, word, 1);
    for (const word of [Word.Go, Word.BarrierGeneration, Word.Finished, Word.Ready]) Atomics.notify(ints, word);
  }

  private destroy(): Promise<void> {
    return (this.destroying ??= this.pool.destroy());
  }

  /** The serial engine's report of the first non-finite pre-activation (or loss), summed over shards. */
  private forwardReport(): NonFiniteReport | null {
    const { floats, control } = this;
    const worst = control.worstForwardKey();
    if (worst === 0) return null;
    if (worst === LOSS_KEY) return { layer: 0, quantity: 'loss', maxFinite: 0, nonFinite: 1 };
    let maxFinite = 0;
    let nonFinite = 0;
    for (let w = 0; w < this.workers; w++) {
      maxFinite = Math.max(maxFinite, floats[control.result(w, Result.MaxFinite)]);
      nonFinite += floats[control.result(w, Result.NonFinite)];
    }
    return { layer: worst, quantity: 'pre-activation', maxFinite, nonFinite };
  }

  /** When a worker found its slice not finite: the serial engine's report over the whole gradient. */
  private gradientReport(): NonFiniteReport | null {
    if (!this.control.anyGradientBad()) return null;
    return inspectGradients(this.gradient, this.setup.model.layout);
  }

  private record(wall: number): void {
    const t = this.timing;
    t.steps++;
    t.wallSeconds += wall;
    t.gradientSeconds += this.slowest(Result.GradientSeconds);
    t.reduceSeconds += this.slowest(Result.ReduceSeconds);
    t.updateSeconds += this.slowest(Result.UpdateSeconds);
  }

  private slowest(field: Result): number {
    let max = 0;
    for (let w = 0; w < this.workers; w++) max = Math.max(max, this.floats[this.control.result(w, field)]);
    return max;
  }

  /** model.buffers = the mean of the active workers' running statistics; every copy restarts from it. */
  private averageBuffers(active: number): void {
    const target = this.setup.model.buffers;
    const n = target.length;
    if (n === 0) return;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let w = 0; w < active; w++) sum += this.buffers[w * n + i];
      target[i] = sum / active;
    }
    for (let w = 0; w < this.workers; w++) this.buffers.set(target, w * n);
  }
}

function shareable(what: string, data: TrainingData): SharedDataset {
  const share = (data as TrainingData & { share?: () => SharedDataset }).share;
  if (typeof share !== 'function')
    throw new TypeError(`the data-parallel engine needs ${what} as a Dataset (shared memory, see src/data); pass workers: 0 to train on other data`);
  return share.call(data);
}
