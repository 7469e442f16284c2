// One copy of the network's working memory: what the serial trainer runs in its thread and what
// each worker of the data-parallel trainer runs on its shard. Parameters are shared; activations,
// and the gradient slot it writes, are its own.
import type { Model } from '../nn/model.js';
import type { ModelSpec } from '../nn/spec.js';
import { Network, type NetworkOptions } from '../nn/network.js';
import type { TrainingData } from './data.js';
import type { NonFiniteReport } from '../errors.js';
import { inspectForward } from './guard.js';
import { accumulateMetrics } from './metrics.js';

/** Evaluation runs in chunks of at most this many rows, whatever the training batch size. */
export const EVAL_CHUNK = 1024;

/**
 * A large batch of a network without norm layers is gathered, run forward and backward in chunks of
 * at most this many rows, its gradient accumulated over them: a chunk's input and activations stay in
 * cache between the passes instead of streaming a whole full batch through memory several times, and
 * the buffers stay small. (Norm layers need the whole batch's statistics, so their batches are not cut.)
 */
export const TRAIN_CHUNK = 1024;

/** Rows the training network holds for batches (or shards) of up to `capacity` rows. */
export function trainingRows(spec: ModelSpec, capacity: number): number {
  return spec.norm === 'none' ? Math.min(capacity, TRAIN_CHUNK) : capacity;
}

export interface GradientResult {
  lossSum: number;
  correct: number;
  nonFinite: NonFiniteReport | null;
  /** Rows of the last chunk run, whose activations the network still holds (the failing one, if any). */
  chunkRows: number;
}

export class Replica {
  readonly train: Network;
  private readonly eval: Network;

  /**
   * `options` are the training network's; the evaluation network shares only its buffers (it runs
   * fp32 products whatever the training precision, as inference does).
   */
  constructor(model: Model, capacity: number, grads: Float32Array, options: NetworkOptions = {}) {
    this.train = new Network(model, trainingRows(model.spec, capacity), grads, options);
    this.eval = new Network(model, Math.min(EVAL_CHUNK, Math.max(capacity, 1)), null, { buffers: options.buffers });
  }

  /**
   * Forward and backward over samples order[start .. start + count); the gradient written is of
   * scale × (summed loss), so shards scaled by 1/batch add up to the batch's mean-loss gradient.
   * Stops at the first chunk whose forward pass is not finite. `layerDone` is called during the last
   * chunk's backward pass as each layer's gradient becomes complete (see Network.backward).
   */
  gradient(data: TrainingData, order: Int32Array, start: number, count: number, scale: number, layerDone?: (layer: number) => void): GradientResult {
    const net = this.train;
    let lossSum = 0;
    let correct = 0;
    let rows = 0;
    for (let s = start; s < start + count; s += net.capacity) {
      rows = Math.min(net.capacity, start + count - s);
      data.gather(order, s, rows, net.input, net.y);
      const loss = net.forward(rows, 'train');
      lossSum += loss;
      correct += net.correct(rows);
      const nonFinite = inspectForward(net, rows, loss);
      if (nonFinite) return { lossSum, correct, nonFinite, chunkRows: rows };
      net.backward(rows, scale, s > start, s + rows === start + count ? layerDone : undefined);
    }
    return { lossSum, correct, nonFinite: null, chunkRows: rows };
  }

  /**
   * Loss sum and correct count over samples order[start .. start + count), in evaluation mode; the
   * task's metric sums (metrics.ts) are added to `sums`.
   */
  evaluate(data: TrainingData, order: Int32Array, start: number, count: number, sums: Float64Array): { lossSum: number; correct: number } {
    let lossSum = 0;
    let correct = 0;
    const net = this.eval;
    const cols = net.layers[net.layers.length - 1].dense.outputs;
    for (let s = start; s < start + count; s += net.capacity) {
      const rows = Math.min(net.capacity, start + count - s);
      data.gather(order, s, rows, net.input, net.y);
      lossSum += net.forward(rows, 'eval');
      correct += net.correct(rows);
      accumulateMetrics(net.spec.task, net.output, net.targets, rows, cols, sums);
    }
    return { lossSum, correct };
  }
}
