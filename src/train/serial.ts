// The serial engine: one replica in the caller's thread, the optimizer over the whole slab.
import { sharedFloats } from '../nn/model.js';
import { type UpdateRule, updateRule } from '../optim/optimizer.js';
import { type Engine, type EngineSetup, type EpochPlan, type Evaluation, type StepOutcome, type StepVisitor, checkPlan } from './engine.js';
import { inspectGradients } from './guard.js';
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
  private applied = 0;

  constructor(private readonly setup: EngineSetup) {
    this.grads = sharedFloats(setup.model.layout.paramCount);
    this.replica = new Replica(setup.model, setup.batchSize, this.grads);
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

  /** The step over samples order[start .. start + count); `more`: another step follows it. */
  private step(start: number, count: number, lr: number, more: boolean): StepOutcome {
    const { model, data, order, optimizer, optimizerState } = this.setup;
    const { lossSum, correct, nonFinite } = this.replica.gradient(data, order, start, count, 1 / count);
    // The next batch's first chunk, fetched while this step checks and applies its gradient.
    if (more) data.prefetch?.(order, start + count, Math.min(this.replica.train.capacity, data.count - start - count));
    const report = nonFinite ?? inspectGradients(this.grads, model.layout);
    if (report) return { lossSum, correct, skipped: true, nonFinite: report };
    this.rule.update(optimizer, model.params, this.grads, optimizerState, lr, ++this.applied);
    return { lossSum, correct, skipped: false, nonFinite: null };
  }

  async evaluate(): Promise<Evaluation> {
    const data = this.setup.evalData;
    if (!data || !this.evalOrder) return { lossSum: 0, correct: 0, count: 0 };
    return { ...this.replica.evaluate(data, this.evalOrder, 0, data.count), count: data.count };
  }

  async close(): Promise<void> {}
}

/** 0 … n−1, in shared memory (the data-parallel engine's workers read it too). */
export function identity(n: number): Int32Array {
  const a = new Int32Array(new SharedArrayBuffer(n * Int32Array.BYTES_PER_ELEMENT));
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
