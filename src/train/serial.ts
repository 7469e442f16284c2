// The serial engine: one replica in the caller's thread, the optimizer over the whole slab.
import { GradientAllreduce } from './mpi/gradient.js';
import { sharedFloats } from '../util/shared-memory.js';
import { type UpdateRule, updateRule } from '../optim/optimizer.js';
import { type Engine, type EngineSetup, type EpochPlan, type Evaluation, type StepOutcome, type StepVisitor, checkPlan } from './engine.js';
import type { NonFiniteReport } from '../errors.js';
import { inspectGradients } from './guard.js';
import { Shard, evaluationPart, minShardRows, shardCapacity } from './parallel/partition.js';
import { metricSlots } from './metrics.js';
import { Replica } from './replica.js';

/** The serial engine keeps the caller's event loop alive by yielding at least this often. */
const YIELD_EVERY_MS = 10;

export class SerialEngine implements Engine {
  readonly workers = 0;
  private readonly replica: Replica;
  private readonly grads: Float32Array;
  private readonly rule: UpdateRule;
  private readonly evalOrder: Int32Array | null;
  /** Optimizer updates applied so far (Adam's bias correction counts them). */
  private applied: number;
  /** This rank's part of each batch, and of the next (prefetched): the whole batch without MPI. */
  private readonly part: Shard;
  private readonly nextPart: Shard;
  /** The gradient's sum over the ranks, with more than one rank. */
  private readonly sync: GradientAllreduce | null;

  constructor(private readonly setup: EngineSetup) {
    const { model, world } = setup;
    this.applied = setup.applied ?? 0;
    this.grads = sharedFloats(model.layout.paramCount);
    const ranks = world?.size ?? 1;
    const rank = world?.rank ?? 0;
    this.part = new Shard(ranks, rank, minShardRows(model.spec));
    this.nextPart = new Shard(ranks, rank, minShardRows(model.spec));
    this.replica = new Replica(model, shardCapacity(setup.batchSize, ranks, minShardRows(model.spec)), this.grads, { precision: setup.precision });
    this.sync = world && world.size > 1 ? new GradientAllreduce(world.mpi, this.grads, model.layout) : null;
    this.rule = updateRule(setup.optimizer);
    this.evalOrder = setup.evalData ? identity(setup.evalData.count) : null;
  }

  async epoch(plan: EpochPlan, onStep: StepVisitor): Promise<void> {
    checkPlan(plan, this.setup);
    const { data, batchSize } = this.setup;
    let lastYield = performance.now();
    for (let s = 0; s < plan.steps; s++) {
      const start = s * batchSize;
      const out = this.step(start, Math.min(batchSize, data.count - start), plan.lr[s], s + 1 < plan.steps);
      onStep(s, out);
      if (out.skipped && plan.stopOnNonFinite) return;
      // A microtask turn lets promise-driven consumers of the step events (an async iterator that
      // may abort) keep up; the macrotask turn now and then lets timers and I/O run.
      await Promise.resolve();
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
  }

  /** The step over samples order[start .. start + count) (this rank's part of them); `more`: another step follows it. */
  private step(start: number, count: number, lr: number, more: boolean): StepOutcome {
    const { model, data, order, optimizer, optimizerState, batchSize } = this.setup;
    const { part, sync } = this;
    part.of(count);
    let lossSum = 0;
    let correct = 0;
    let nonFinite: NonFiniteReport | null = null;
    if (part.rows > 0) ({ lossSum, correct, nonFinite } = this.replica.gradient(data, order, start + part.begin, part.rows, 1 / count, sync?.hook));
    // The next batch's first chunk, fetched while this step checks and applies its gradient.
    if (more) {
      const next = this.nextPart;
      next.of(Math.min(batchSize, data.count - start - count));
      if (next.rows > 0) data.prefetch?.(order, start + count + next.begin, Math.min(this.replica.train.capacity, next.rows));
    }
    if (sync) {
      // Every rank joins every step's collectives: a rank without rows adds nothing, a rank whose
      // forward pass was not finite makes the sum not finite, so that every rank skips the step.
      if (part.rows === 0) this.grads.fill(0);
      else if (nonFinite) this.grads.fill(NaN);
      sync.finish();
    }
    const report = nonFinite ?? inspectGradients(this.grads, model.layout);
    if (report) return { lossSum, correct, skipped: true, nonFinite: report };
    this.rule.update(optimizer, model.params, this.grads, optimizerState, lr, ++this.applied);
    return { lossSum, correct, skipped: false, nonFinite: null };
  }

  async evaluate(): Promise<Evaluation> {
    const data = this.setup.evalData;
    const sums = new Float64Array(metricSlots(this.setup.model.spec.task, this.setup.model.outputs));
    if (!data || !this.evalOrder) return { lossSum: 0, correct: 0, count: 0, sums };
    const part = evaluationPart(data.count, this.setup.world?.size ?? 1, this.setup.world?.rank ?? 0);
    if (part.rows === 0) return { lossSum: 0, correct: 0, count: 0, sums };
    return { ...this.replica.evaluate(data, this.evalOrder, part.begin, part.rows, sums), count: part.rows, sums };
  }

  async close(): Promise<void> {}
}

/** 0 … n−1, in shared memory (the data-parallel engine's workers read it too). */
export function identity(n: number): Int32Array {
  const a = new Int32Array(new SharedArrayBuffer(n * Int32Array.BYTES_PER_ELEMENT));
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
