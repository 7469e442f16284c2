// The serial engine: one replica in the caller's thread, the optimizer over the whole slab.
import { sharedFloats } from '../nn/model.js';
import { type UpdateRule, updateRule } from '../optim/optimizer.js';
import type { Engine, EngineSetup, Evaluation, StepOutcome } from './engine.js';
import { inspectGradients } from './guard.js';
import { Replica } from './replica.js';

export class SerialEngine implements Engine {
  readonly workers = 0;
  private readonly replica: Replica;
  private readonly grads: Float32Array;
  private readonly rule: UpdateRule;
  private readonly evalOrder: Int32Array | null;

  constructor(private readonly setup: EngineSetup) {
    this.grads = sharedFloats(setup.model.layout.paramCount);
    this.replica = new Replica(setup.model, setup.batchSize, this.grads);
    this.rule = updateRule(setup.optimizer);
    this.evalOrder = setup.evalData ? identity(setup.evalData.count) : null;
  }

  async step(start: number, count: number, lr: number, step: number): Promise<StepOutcome> {
    const { model, data, order, optimizer, optimizerState } = this.setup;
    const outcome = this.replica.gradient(data, order, start, count, 1 / count);
    if (outcome.nonFinite) return outcome;
    const bad = inspectGradients(this.grads, model.layout);
    if (bad) return { ...outcome, nonFinite: bad };
    this.rule.update(optimizer, model.params, this.grads, optimizerState, lr, step);
    return outcome;
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
