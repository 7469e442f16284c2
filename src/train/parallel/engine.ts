// The data-parallel engine: W long-lived Piscina tasks, one per thread, each looping on a shared
// control block (protocol.ts). An epoch is one store and notify by the main thread: the workers
// run its steps on their own, splitting each batch, meeting at barriers and reduce-scatterring the
// gradient among themselves, and write each step's outcome to shared memory. The main thread
// waits with Atomics.waitAsync, so never blocks its event loop, and is woken every few
// milliseconds to pass the outcomes on. Parameters, optimizer state, gradient slots, order and
// data all live in shared memory.
//
// BatchNorm normalizes each shard with the shard's own statistics (as PyTorch's DataParallel does),
// and no shard of a BatchNorm model has fewer than 2 rows. Each worker moves its own copy of the
// running statistics with its shard's statistics; after every step the last worker to finish it
// averages the copies of the workers that had rows into model.buffers and restarts every copy from that average, so
// the running statistics move by the mean of the shards' statistics.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ResourceLimits } from 'node:worker_threads';
import type { SharedDataset } from '../../data/dataset.js';
import { allocatePackedWeight } from '../../nn/dense.js';
import { EngineBusyError, EngineClosedError, type NonFiniteReport, WorkerFailedError } from '../../errors.js';
import { sharedFloats } from '../../util/shared-memory.js';
import type { TrainingData } from '../data.js';
import { type Engine, type EngineSetup, type EpochPlan, type Evaluation, type StepOutcome, type StepVisitor, batchesIn, checkPlan } from '../engine.js';
import { inspectGradients } from '../guard.js';
import { metricSlots } from '../metrics.js';
import { trainingRows } from '../replica.js';
import { identity } from '../serial.js';
import { createBatchBuffers, weightsOverBatch } from './batch-weights.js';
import { evaluationPart, minShardRows, workerCapacity } from './partition.js';
import { waitAsync } from './barrier.js';
import { type WorkerPool, closePool, createPool } from './pool.js';
import { Command, Control, type FaultForTesting, Result, StepStatus, type StepLog, type TrainTask, Word, createStepLog } from './protocol.js';

/**
 * How long a worker polls a shared word before sleeping on it: long enough to cover the main
 * thread's turn between two steps and the usual imbalance at a barrier, so that a step costs no
 * futex wake-up (measured: 2 workers, 784-128-10 at batch 128, a median step of 655 µs polling 200 µs,
 * 528 µs polling 1000 µs, 793 µs sleeping at once). A worker left idle burns at most this much CPU.
 */
const SPIN_MICROS = 1000;

/** Totals over the epochs run, for benchmarks: where a step's time goes. */
export interface ParallelTiming {
  steps: number;
  /** Main thread: from posting each epoch to learning it finished. */
  wallSeconds: number;
  /** Per epoch, the slowest worker's total of gather, forward and backward over the steps, summed. */
  gradientSeconds: number;
  /** Likewise for the sum over the slots and the check of its slice. */
  reduceSeconds: number;
  /** Likewise for the optimizer update and packing of its slice. */
  updateSeconds: number;
}

export class DataParallelEngine implements Engine {
  readonly timing: ParallelTiming = { steps: 0, wallSeconds: 0, gradientSeconds: 0, reduceSeconds: 0, updateSeconds: 0 };
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;
  private readonly tasks: Promise<void>[];
  private sequence = 0;
  private busy = false;
  /** The command the workers run, null while idle. */
  private running: Command | null = null;
  /** What the engine is doing, for the error when a worker fails. */
  private activity = (): string => 'while starting';
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;
  private destroying: Promise<void> | null = null;
  /** Steps of the epochs run so far (workers count steps from it for fault injection). */
  private stepsRun = 0;

  private constructor(
    private readonly setup: EngineSetup,
    readonly workers: number,
    private readonly pool: WorkerPool,
    private readonly control: Control,
    /** Slot 0, where the workers reduce the gradient: a non-finite gradient is reported from it. */
    private readonly gradient: Float32Array,
    private readonly log: StepLog,
    /** The workers' evaluation metric sums, one record each. */
    private readonly evalSums: Float64Array,
    tasks: TrainTask[],
  ) {
    this.ints = control.ints;
    this.floats = control.floats;
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
   * `testing.faultForTesting` makes a worker throw, exit, run out of memory or stall at a step, and
   * `testing.resourceLimits` limits the workers' heaps, for the failure tests.
   */
  static async create(
    setup: EngineSetup,
    workers: number,
    testing: { faultForTesting?: FaultForTesting; resourceLimits?: ResourceLimits } = {},
  ): Promise<DataParallelEngine> {
    if (!(Number.isInteger(workers) && workers >= 1)) throw new RangeError(`workers must be a positive integer, got ${workers}`);
    const { model, optimizerState, order } = setup;
    for (const [name, a] of [
      ['model.params', model.params],
      ['model.buffers', model.buffers],
      ['order', order],
      ...optimizerState.map((s, i) => [`optimizerState[${i}]`, s] as const),
    ] as const)
      if (!(a.buffer instanceof SharedArrayBuffer)) throw new TypeError(`the data-parallel engine needs ${name} on a SharedArrayBuffer`);
    const data = shareable('training data', setup.data);
    const evalData = setup.evalData ? shareable('evalData', setup.evalData) : null;

    const { paramCount, bufferCount } = model.layout;
    const control = Control.create(workers);
    const slots = sharedFloats(workers * paramCount);
    const bufferCopies = sharedFloats(workers * bufferCount);
    for (let w = 0; w < workers; w++) bufferCopies.set(model.buffers, w * bufferCount);
    const log = createStepLog(batchesIn(setup));
    // The weight gradients over the batch read whole shards: not with one worker, nor a shard run in chunks.
    const capacity = workerCapacity(setup.batchSize, setup.world?.size ?? 1, workers, minShardRows(model.spec));
    const overBatch = workers > 1 && trainingRows(model.spec, capacity) >= capacity && weightsOverBatch(model.layout, workers * capacity);
    const base: Omit<TrainTask, 'index'> = {
      kind: 'train',
      workers,
      spec: model.spec,
      params: model.params,
      buffers: model.buffers,
      bufferCopies,
      slots,
      batch: overBatch ? createBatchBuffers(model.layout, workers, capacity, setup.precision) : null,
      // A lone worker packs the weights inside its products as fast as it would beforehand.
      packed: workers > 1 ? model.layout.layers.map((l, i) => allocatePackedWeight(l.inputs, l.outputs, i > 0, setup.precision)) : null,
      precision: setup.precision,
      optimizer: setup.optimizer,
      optimizerState,
      applied: setup.applied ?? 0,
      order,
      evalOrder: setup.evalData ? identity(setup.evalData.count) : null,
      data,
      evalData,
      evalSums: new Float64Array(new SharedArrayBuffer(8 * workers * metricSlots(model.spec.task, model.outputs))),
      batchSize: setup.batchSize,
      rank: setup.world?.rank ?? 0,
      ranks: setup.world?.size ?? 1,
      control: control.buffer,
      log,
      // Polling helps only while every worker has a core of its own.
      spinMicros: workers <= availableParallelism() ? SPIN_MICROS : 0,
      faultForTesting: testing.faultForTesting,
    };
    const pool = createPool(workers, testing.resourceLimits);
    const tasks = Array.from({ length: workers }, (_, index) => ({ ...base, index }));
    const engine = new DataParallelEngine(setup, workers, pool, control, slots.subarray(0, paramCount), log, base.evalSums, tasks);
    try {
      await engine.waitFor(Word.Ready, workers);
    } catch (err) {
      await engine.close();
      throw err;
    }
    engine.activity = () => 'while idle';
    return engine;
  }

  async epoch(plan: EpochPlan, onStep: StepVisitor): Promise<void> {
    const { ints } = this;
    checkPlan(plan, this.setup);
    this.checkIdle(); // before the plan of a running epoch is overwritten
    this.log.lr.set(plan.lr.subarray(0, plan.steps));
    ints[Word.Steps] = plan.steps;
    ints[Word.StepsBefore] = this.stepsRun;
    ints[Word.StopOnNonFinite] = plan.stopOnNonFinite ? 1 : 0;
    ints[Word.HaltRequest] = 0;
    ints[Word.Halt] = 0;
    ints[Word.Completed] = 0;

    let visited = 0;
    let applied = 0;
    let failed: { error: unknown } | null = null;
    // Passes the completed steps' outcomes on. The step an epoch stops at is reported once every
    // worker is done with it (its census and gradient are then complete).
    const visit = (done: boolean) => {
      const completed = Atomics.load(ints, Word.Completed);
      for (; visited < completed && !failed; visited++) {
        const status = this.log.status[visited] as StepStatus;
        if (status !== StepStatus.Applied && plan.stopOnNonFinite && !done) return;
        if (status === StepStatus.Applied) applied++;
        try {
          onStep(visited, this.outcome(visited, plan.stopOnNonFinite));
        } catch (error) {
          failed = { error };
          Atomics.store(ints, Word.HaltRequest, 1);
        }
      }
    };
    const t0 = performance.now();
    await this.command(
      Command.Epoch,
      () => `during step ${this.currentStep()}`,
      () => visit(false),
    );
    const wall = (performance.now() - t0) / 1000;
    visit(true);
    this.stepsRun += Atomics.load(ints, Word.Completed);
    this.record(wall, applied);
    if (failed) throw (failed as { error: unknown }).error;
  }

  async evaluate(): Promise<Evaluation> {
    const data = this.setup.evalData;
    const { evalSums } = this;
    const sums = new Float64Array(evalSums.length / this.workers);
    if (!data) return { lossSum: 0, correct: 0, count: 0, sums };
    await this.command(Command.Evaluate, () => 'during evaluation');
    let lossSum = 0;
    let correct = 0;
    for (let w = 0; w < this.workers; w++) {
      lossSum += this.floats[this.control.result(w, Result.LossSum)];
      correct += this.floats[this.control.result(w, Result.Correct)];
      for (let i = 0; i < sums.length; i++) sums[i] += evalSums[w * sums.length + i];
    }
    return { lossSum, correct, count: evaluationPart(data.count, this.setup.world?.size ?? 1, this.setup.world?.rank ?? 0).rows, sums };
  }

  /** Ends the workers' tasks and destroys the pool; idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.failure === null && !this.busy) {
      this.ints[Word.Command] = Command.Exit;
      Atomics.store(this.ints, Word.Go, ++this.sequence);
      Atomics.notify(this.ints, Word.Go);
      await Promise.all(this.tasks);
    } else {
      // A command in flight (or a failed worker): release everyone and fail the command.
      this.failure ??= new EngineClosedError(`the data-parallel engine was closed ${this.activity()}`);
      this.abort();
    }
    await this.destroy();
  }

  /**
   * Posts a command and waits, without blocking the event loop, until every worker finished it;
   * calls onWake whenever the workers wake the main thread on the way.
   */
  private async command(command: Command, activity: () => string, onWake?: () => void): Promise<void> {
    this.checkIdle();
    this.busy = true;
    this.running = command;
    this.activity = activity;
    try {
      this.ints[Word.Command] = command;
      const sequence = ++this.sequence;
      Atomics.store(this.ints, Word.Go, sequence);
      Atomics.notify(this.ints, Word.Go);
      await this.waitFor(Word.Finished, sequence, onWake);
    } finally {
      this.busy = false;
      this.running = null;
      this.activity = () => 'while idle';
    }
  }

  private checkIdle(): void {
    if (this.failure) throw this.failure;
    if (this.closing) throw new EngineClosedError('the data-parallel engine is closed');
    if (this.busy) throw new EngineBusyError('the data-parallel engine runs one epoch or evaluation at a time');
  }

  /** Resolves when ints[word] reaches target; rejects as soon as a worker failed. */
  private async waitFor(word: Word, target: number, onWake?: () => void): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      onWake?.();
      const value = Atomics.load(this.ints, word);
      if (value >= target) return;
      const wait = waitAsync(this.ints, word, value);
      if (wait.async) await wait.value;
    }
  }

  /** A worker's task rejected (it threw, or its thread exited) or returned unexpectedly. */
  private fail(w: number, cause: Error): void {
    if (this.closing && this.failure === null) return; // the tasks end because close() ended them
    this.failure ??= new WorkerFailedError(w, this.workers, this.currentStep(), this.activity(), cause);
    this.abort();
    void this.destroy();
  }

  /** The step the workers are in (1-based over the engine's epochs), or null outside an epoch. */
  private currentStep(): number | null {
    return this.running === Command.Epoch ? this.stepsRun + Atomics.load(this.ints, Word.Completed) + 1 : null;
  }

  /** Raises the abort flag and wakes every waiter, workers and main thread alike. */
  private abort(): void {
    const { ints } = this;
    Atomics.store(ints, Word.Abort, 1);
    for (const word of [Word.Go, Word.BarrierGeneration]) Atomics.add(ints, word, 1);
    for (const word of [Word.Go, Word.BarrierGeneration, Word.Finished, Word.Ready]) Atomics.notify(ints, word);
  }

  private destroy(): Promise<void> {
    this.destroying ??= closePool(this.pool);
    return this.destroying;
  }

  /** Step s's outcome; with the report of what was not finite when the epoch stopped there. */
  private outcome(s: number, stopped: boolean): StepOutcome {
    const { log } = this;
    const skipped = log.status[s] !== StepStatus.Applied;
    const nonFinite = skipped && stopped ? this.report(s) : null;
    return { lossSum: log.lossSum[s], correct: log.correct[s], skipped, nonFinite };
  }

  /** The serial engine's report of skipped step s: the forward census summed over shards, or the whole gradient inspected. */
  private report(s: number): NonFiniteReport {
    const status = this.log.status[s] as Exclude<StepStatus, StepStatus.Applied>;
    switch (status) {
      case StepStatus.NonFiniteGradient:
        return inspectGradients(this.gradient, this.setup.model.layout)!;
      case StepStatus.NonFiniteLoss:
        return { layer: 0, quantity: 'loss', maxFinite: 0, nonFinite: 1 };
      case StepStatus.NonFiniteForward: {
        const { floats, control } = this;
        let maxFinite = 0;
        let nonFinite = 0;
        for (let w = 0; w < this.workers; w++) {
          maxFinite = Math.max(maxFinite, floats[control.result(w, Result.MaxFinite)]);
          nonFinite += floats[control.result(w, Result.NonFinite)];
        }
        return { layer: this.log.layer[s], quantity: 'pre-activation', maxFinite, nonFinite };
      }
    }
  }

  private record(wall: number, steps: number): void {
    const t = this.timing;
    t.steps += steps;
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
}

function shareable(what: string, data: TrainingData): SharedDataset {
  const share = (data as TrainingData & { share?: () => SharedDataset }).share;
  if (typeof share !== 'function')
    throw new TypeError(`the data-parallel engine needs ${what} as a Dataset (shared memory, see src/data); pass workers: 0 to train on other data`);
  return share.call(data);
}
