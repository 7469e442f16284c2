// The worker side of the data-parallel engine (the Piscina task file; it runs from dist/, as
// compiled JavaScript). A 'train' task is long-lived: it builds the worker's replica once, then
// loops on the control block until told to exit. The workers run a whole epoch on their own, the
// main thread only reading the outcomes as they come (waking it every step would cost more than a
// small step's synchronization), each step being:
//   gather its shard → forward → backward, publishing each layer's dZ → take blocks of the weight
//   gradients over the whole batch, checking them (weight-gradient.ts) → barrier →
//   update its slice, pack the weight rows in it → start fetching its next shard's rows → barrier.
// Before an epoch's steps, worker 0 times its round trip to the others, which decides how the
// epoch's packs are stored (round-trip.ts).
// A shard too large for one chunk, or a model whose weight gradients do not pay over the batch
// (gradientsOverBatch), writes its whole gradient into its own slot instead; then, before the update,
// each worker sums its 1/W slice of the slots into slot 0 and checks it (a reduce-scatter), between
// two barriers. The packed weights are what every worker's products read
// (each packs 1/W of them, not all).
import { performance } from 'node:perf_hooks';
import { type Dataset, datasetFromShared } from '../../data/dataset.js';
import { native } from '../../native.js';
import { packDenseWeight } from '../../nn/dense.js';
import { Model } from '../../nn/model.js';
import { type UpdateRule, updateRule } from '../../optim/optimizer.js';
import { census } from '../guard.js';
import { Replica } from '../replica.js';
import { Barrier, waitForChange } from './barrier.js';
import { FAR_NANOS, answerRoundTrips, leadRoundTrips, probeBase } from './round-trip.js';
import { activeWorkers, minShardRows, shardCapacity, shardStart, sliceBounds, weightRowsIn } from './partition.js';
import { APPLIED, Command, Control, GRADIENT_KEY, LOSS_KEY, Result, type TrainTask, type WorkerTask, Word } from './protocol.js';
import { type BlockUpdate, type RowRange, SharedWeightGradients, shardRows, updateWithBlocksPays, weightBlocks } from './weight-gradient.js';

/**
 * The main thread is woken with progress at most this often (and at the end of the epoch). Each wake
 * takes a core from a worker for a moment, and its partners wait for it at the next barrier: with
 * 2 workers on 2 cores, waking every 5 ms cost about 45 µs a step at batch 512 against every 25 ms
 * (median of 4 paired runs).
 */
const NOTIFY_MS = 20;

export default function run(task: WorkerTask): void {
  if (task.kind === 'train') new TrainingWorker(task).serve();
}

/** A slice of the parameter-shaped slabs that one call of the update rule updates. */
interface UpdateSlice {
  params: Float32Array;
  /** The slice of slot 0, where the reduced gradient is. */
  gradient: Float32Array;
  state: Float32Array[];
}

/** A slice whose gradient is elsewhere (a weight-gradient block's, in its computer's scratch). */
type ParamSlice = Omit<UpdateSlice, 'gradient'>;

class TrainingWorker {
  private readonly w: number;
  private readonly W: number;
  private readonly control: Control;
  private readonly ints: Int32Array;
  private readonly barrier: Barrier;
  private readonly finished: Barrier;
  private readonly replica: Replica;
  /** Null when the gradient is summed over the slots (shards run in chunks, gradientsOverBatch, or one worker). */
  private readonly weightGrads: SharedWeightGradients | null;
  private readonly data: Dataset;
  private readonly evalData: Dataset | null;
  private readonly rule: UpdateRule;
  private readonly minRows: number;
  /** The slice of the slots it reduces into slot 0 and checks (without shared weight gradients). */
  private readonly reduceBegin: number;
  private readonly reduceEnd: number;
  private readonly reduced: Float32Array;
  /** Its slice, updated after a barrier when the update does not go with the weight-gradient blocks. */
  private readonly update: UpdateSlice;
  /** Per layer and weight-gradient block: the block's weight rows, and with block 0 the layer's bias. */
  private readonly blockSlices: (RowRange & { rows: ParamSlice; bias: UpdateSlice | null })[][];
  private lr = 0;
  /** Milliseconds spent this step updating blocks. */
  private blockUpdateMs = 0;
  /** Per layer, the rows of its weight matrix in this worker's slice, which it packs. */
  private readonly packRows: [number, number][];
  /** Optimizer updates applied so far. */
  private applied = 0;
  /** Epochs begun so far. */
  private epochs = 0;
  /** Whether this epoch's packs go past the caches (the workers' cores share none). */
  private packPastCaches = false;
  private lastNotify = 0;
  /** The step being ended, its active shards, and whether the epoch stops there. */
  private endingStep = 0;
  private endingActive = 0;
  private endingStops = false;

  constructor(private readonly task: TrainTask) {
    const { index, workers, spec, params, slots, optimizerState, packed, batch, spinMicros } = task;
    this.w = index;
    this.W = workers;
    this.control = new Control(task.control, workers, spec.layers.length - 1);
    this.ints = this.control.ints;
    this.barrier = new Barrier(this.ints, workers, Word.BarrierArrived, Word.BarrierGeneration, spinMicros);
    this.finished = new Barrier(this.ints, workers, Word.FinishedArrived, Word.Finished, spinMicros);

    const paramCount = params.length;
    const bufferCount = task.buffers.length / workers;
    const model = new Model(spec, params, task.buffers.subarray(index * bufferCount, (index + 1) * bufferCount));
    // One slot for all: a network whose weight gradients are left to the hook writes none of it.
    const slotIndex = slots.length > paramCount ? index : 0;
    const slot = slots.subarray(slotIndex * paramCount, (slotIndex + 1) * paramCount);
    this.minRows = minShardRows(model.spec);
    this.replica = new Replica(model, shardCapacity(task.batchSize, workers, this.minRows), slot, {
      buffers: model.buffers,
      packed,
      ...(batch && shardRows(batch, model.layout, index)),
    });
    // Norm layers' gradients are summed over the slots, with no bound known beforehand.
    const withBlocks = batch && spec.norm === 'none' && updateWithBlocksPays(model.layout, workers, batch.capacity) ? this.updateBlock : null;
    this.weightGrads = batch && new SharedWeightGradients(this.control, index, model.layout, batch, slots, spinMicros, withBlocks);
    this.data = datasetFromShared(task.data);
    this.evalData = task.evalData && datasetFromShared(task.evalData);
    this.rule = updateRule(task.optimizer);

    // Reducing costs the same for every element. Updating writes the parameter and its optimizer
    // state, and a weight also its packed layouts: the update slices balance the floats written.
    const rowGroup = native.packedBAlignment();
    const reduce = sliceBounds(model.layout, workers, rowGroup);
    this.reduceBegin = reduce[index];
    this.reduceEnd = reduce[index + 1];
    this.reduced = slots.subarray(this.reduceBegin, this.reduceEnd);
    const writes = 1 + optimizerState.length;
    const layouts = (layer: number) => (packed ? (packed[layer].inputGrad ? 2 : 1) : 0);
    const update = sliceBounds(model.layout, workers, rowGroup, (layer) => (writes + layouts(layer)) / writes);
    const [b, e] = [update[index], update[index + 1]];
    this.packRows = weightRowsIn(model.layout, b, e);
    const paramSlice = (begin: number, end: number): ParamSlice => ({
      params: params.subarray(begin, end),
      state: optimizerState.map((st) => st.subarray(begin, end)),
    });
    const slice = (begin: number, end: number): UpdateSlice => ({ ...paramSlice(begin, end), gradient: slots.subarray(begin, end) });
    this.update = slice(b, e);
    this.blockSlices = weightBlocks(model.layout, rowGroup).map((blocks, i) => {
      const { weight, bias, inputs } = model.layout.layers[i];
      return blocks.map(({ row0, row1 }, k) => ({
        row0,
        row1,
        rows: paramSlice(weight.offset + row0 * inputs, weight.offset + row1 * inputs),
        bias: k === 0 ? slice(bias.offset, bias.offset + bias.size) : null,
      }));
    });
  }

  /** The update that goes with weight-gradient block b of the layer (weight-gradient.ts). */
  private readonly updateBlock: BlockUpdate = (layer, b, dW) => {
    const t = performance.now();
    const block = this.blockSlices[layer][b];
    this.apply(block.rows, dW, this.applied + 1);
    if (block.bias) this.apply(block.bias, block.bias.gradient, this.applied + 1);
    packDenseWeight(this.replica.train.layers[layer].dense, block.row0, block.row1, this.packPastCaches);
    this.blockUpdateMs += performance.now() - t;
  };

  /** Announces itself, then runs commands until Exit or abort. */
  serve(): void {
    const { ints } = this;
    Atomics.add(ints, Word.Ready, 1);
    Atomics.notify(ints, Word.Ready);
    let seen = 0;
    for (;;) {
      if (!waitForChange(ints, Word.Go, seen, this.task.spinMicros)) return;
      seen = Atomics.load(ints, Word.Go);
      const command = ints[Word.Command] as Command;
      if (command === Command.Exit) return;
      if (command === Command.Evaluate) this.evaluate();
      else if (!this.epoch()) return;
      this.finished.leave();
    }
  }

  /** The epoch's steps, until the last or a halt; false when the engine aborted. */
  private epoch(): boolean {
    const { ints, control, w } = this;
    const totals = { gradient: 0, reduce: 0, update: 0 };
    if (!this.probeCores()) return false;
    // The parameters may have changed since the last epoch (a model loaded, or edited, in between).
    this.packWeights();
    if (!this.barrier.arrive()) return false;
    const steps = ints[Word.Steps];
    for (let s = 0; s < steps; s++) {
      if (!this.step(s, totals)) return false;
      if (ints[Word.Halt] !== 0) break;
    }
    control.floats[control.result(w, Result.GradientSeconds)] = totals.gradient / 1000;
    control.floats[control.result(w, Result.ReduceSeconds)] = totals.reduce / 1000;
    control.floats[control.result(w, Result.UpdateSeconds)] = totals.update / 1000;
    return true;
  }

  /** Step s of the epoch (totals in milliseconds); false when the engine aborted. */
  private step(s: number, totals: { gradient: number; reduce: number; update: number }): boolean {
    const { ints, control, w, W } = this;
    const { batchSize, plan } = this.task;
    const start = s * batchSize;
    const count = Math.min(batchSize, this.data.count - start);
    const stopOnNonFinite = ints[Word.StopOnNonFinite] !== 0;
    const step = ints[Word.StepsBefore] + s + 1;
    this.injectFault(step);
    this.lr = plan.lr[s];
    this.blockUpdateMs = 0;

    const t0 = performance.now();
    const active = activeWorkers(count, W, this.minRows);
    const begin = shardStart(count, active, w);
    const rows = shardStart(count, active, w + 1) - begin;
    const shared = this.weightGrads;
    shared?.begin(step, active);
    let lossSum = 0;
    let correct = 0;
    let key = 0;
    let chunkRows = 0;
    if (rows > 0) {
      const out = this.replica.gradient(this.data, this.task.order, start + begin, rows, 1 / count, shared?.publish);
      lossSum = out.lossSum;
      correct = out.correct;
      chunkRows = out.chunkRows;
      if (out.nonFinite) key = out.nonFinite.quantity === 'loss' ? LOSS_KEY : out.nonFinite.layer;
    }
    if (shared && !shared.finish()) return false;
    const floats = control.floats;
    floats[control.result(w, Result.LossSum)] = lossSum;
    floats[control.result(w, Result.Correct)] = correct;
    ints[control.forwardKey(w)] = key;
    if (shared) ints[control.gradientBad(w)] = shared.allFinite ? 0 : 1;
    const gradientMs = performance.now() - t0;
    if (shared?.updatedWithBlocks) {
      // Applied with the gradient's blocks: the barrier that ends the step is its only one.
      this.applied++;
      if (w === 0) plan.status[s] = APPLIED;
      totals.gradient += gradientMs - this.blockUpdateMs;
      totals.update += this.blockUpdateMs;
      return this.endStep(s, active, false);
    }
    totals.gradient += gradientMs;
    if (!this.barrier.arrive()) return false;

    // Every worker reads the same keys and flags, so all of them skip the step, or none.
    const worst = control.worstForwardKey();
    if (worst !== 0) {
      this.countNonFinite(worst, chunkRows);
      if (w === 0) plan.status[s] = worst;
      return this.endStep(s, active, stopOnNonFinite);
    }
    if (!shared && !this.reduceSlots(active, totals)) return false;

    if (control.anyGradientBad()) {
      if (w === 0) plan.status[s] = GRADIENT_KEY;
      return this.endStep(s, active, stopOnNonFinite);
    }
    const t2 = performance.now();
    // Adam's bias correction counts applied updates: every worker counts the same ones.
    this.applied++;
    if (this.update.params.length > 0) this.apply(this.update, this.update.gradient, this.applied);
    this.packWeights();
    if (w === 0) plan.status[s] = APPLIED;
    totals.update += performance.now() - t2;
    return this.endStep(s, active, false);
  }

  /** The update rule on one slice, as the `applied`-th update. */
  private apply(slice: ParamSlice, gradient: Float32Array, applied: number): void {
    this.rule.update(this.task.optimizer, slice.params, gradient, slice.state, this.lr, applied);
  }

  /**
   * Sums this worker's slice of the active shards' slots into slot 0 and checks it (empty shards are
   * the last ones; a lone active shard's slot is the gradient itself); false when the engine aborted.
   */
  private reduceSlots(active: number, totals: { reduce: number }): boolean {
    const t = performance.now();
    const { params, slots } = this.task;
    const reduced = this.reduced;
    let top = 0;
    if (reduced.length > 0)
      top = active > 1 ? native.reduceSlots(slots, active, params.length, this.reduceBegin, this.reduceEnd) : native.maxAbs(reduced, reduced.length);
    this.ints[this.control.gradientBad(this.w)] = Number.isFinite(top) ? 0 : 1;
    totals.reduce += performance.now() - t;
    return this.barrier.arrive();
  }

  /**
   * Worker 0 times its round trip to the others, when the workers pack weights and each has a core
   * to poll on; every worker reads the outcome after the barrier that ends this. False when the engine aborted.
   */
  private probeCores(): boolean {
    const { control, ints, w } = this;
    const { packed, spinMicros } = this.task;
    if (this.W > 1 && packed && spinMicros > 0) {
      const base = probeBase(++this.epochs);
      if (w === 0) {
        const nanos = leadRoundTrips(control, base);
        if (nanos === null) return false;
        ints[Word.PackPastCaches] = nanos > FAR_NANOS ? 1 : 0;
      } else if (!answerRoundTrips(control, w, base)) return false;
    }
    if (!this.barrier.arrive()) return false;
    this.packPastCaches = ints[Word.PackPastCaches] !== 0;
    if (this.weightGrads) this.weightGrads.pastCaches = this.packPastCaches;
    return true;
  }

  /** Packs the weight rows of this worker's slice; the next barrier makes every packed weight whole. */
  private packWeights(): void {
    const layers = this.replica.train.layers;
    for (let i = 0; i < layers.length; i++) packDenseWeight(layers[i].dense, this.packRows[i][0], this.packRows[i][1], this.packPastCaches);
  }

  /**
   * The barrier that ends step s, after which the next step may read the parameters. The last
   * worker to arrive, once every worker is done with the step, publishes its outcomes and the step as
   * completed, readies the weight-gradient blocks for the next, decides for everyone whether the
   * epoch halts here, and now and then wakes the main thread to read the outcomes.
   */
  private endStep(s: number, active: number, stop: boolean): boolean {
    if (!stop) this.prefetchShard(s + 1);
    this.endingStep = s;
    this.endingActive = active;
    this.endingStops = stop;
    return this.barrier.arrive(this.publishStep);
  }

  /**
   * Starts fetching the rows of this worker's shard of step s (its first chunk), so that they arrive
   * while the step before ends: a shuffled minibatch's rows are misses to memory, and its gather
   * would otherwise wait for them one row at a time.
   */
  private prefetchShard(s: number): void {
    if (s >= this.ints[Word.Steps]) return;
    const { batchSize } = this.task;
    const start = s * batchSize;
    const count = Math.min(batchSize, this.data.count - start);
    const active = activeWorkers(count, this.W, this.minRows);
    const begin = shardStart(count, active, this.w);
    const rows = Math.min(shardStart(count, active, this.w + 1) - begin, this.replica.train.capacity);
    if (rows > 0) this.data.prefetch(this.task.order, start + begin, rows);
  }

  /** Run by the last worker at a step's end (a field, so that no step allocates a closure). */
  private readonly publishStep = (): void => {
    const { ints } = this;
    this.publishShards(this.endingStep, this.endingActive);
    this.weightGrads?.reset();
    ints[Word.Halt] = this.endingStops || ints[Word.HaltRequest] !== 0 ? 1 : 0;
    Atomics.store(ints, Word.Completed, this.endingStep + 1);
    const now = performance.now();
    if (now - this.lastNotify >= NOTIFY_MS) {
      this.lastNotify = now;
      Atomics.notify(ints, Word.Finished);
    }
  };

  /**
   * The step's loss and accuracy over the shards for the main thread, and the running statistics,
   * which move by the mean of the active shards' statistics (each worker moved its own copy with its
   * shard's): model.buffers = their mean, every copy restarts from it.
   */
  private publishShards(s: number, active: number): void {
    const { control, task } = this;
    let lossSum = 0;
    let correct = 0;
    for (let w = 0; w < this.W; w++) {
      lossSum += control.floats[control.result(w, Result.LossSum)];
      correct += control.floats[control.result(w, Result.Correct)];
    }
    task.plan.lossSum[s] = lossSum;
    task.plan.correct[s] = correct;

    const target = task.runningStats;
    const n = target.length;
    if (n === 0) return;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let w = 0; w < active; w++) sum += task.buffers[w * n + i];
      target[i] = sum / active;
    }
    for (let w = 0; w < this.W; w++) task.buffers.set(target, w * n);
  }

  /**
   * Census of layer `key`'s pre-activation over the rows the network holds: this worker's shard, or
   * its last chunk when a large shard runs in chunks (the main thread adds the workers' counts up).
   */
  private countNonFinite(key: number, rows: number): void {
    const { control, w } = this;
    let tally = { maxFinite: 0, nonFinite: 0 };
    if (key !== LOSS_KEY && rows > 0) {
      const layer = this.replica.train.layers[key - 1];
      tally = census(layer.z, rows * layer.dense.outputs);
    }
    control.floats[control.result(w, Result.MaxFinite)] = tally.maxFinite;
    control.floats[control.result(w, Result.NonFinite)] = tally.nonFinite;
  }

  /** Loss sum and correct count over this worker's shard of the evaluation data. */
  private evaluate(): void {
    const { control, w, W } = this;
    const data = this.evalData!;
    const active = activeWorkers(data.count, W, 1);
    const begin = shardStart(data.count, active, w);
    const rows = shardStart(data.count, active, w + 1) - begin;
    const out = rows > 0 ? this.replica.evaluate(data, this.task.evalOrder!, begin, rows) : { lossSum: 0, correct: 0 };
    control.floats[control.result(w, Result.LossSum)] = out.lossSum;
    control.floats[control.result(w, Result.Correct)] = out.correct;
  }

  private injectFault(step: number): void {
    const fault = this.task.faultForTesting;
    if (!fault || fault.worker !== this.w || fault.step !== step) return;
    if (fault.kind === 'exit') process.exit(3);
    throw new Error(`fault injected for testing at step ${step}`);
  }
}
