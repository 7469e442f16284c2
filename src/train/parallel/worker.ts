// The worker side of the data-parallel engine (the Piscina task file; it runs from dist/, as
// compiled JavaScript). A 'train' task is long-lived: it builds the worker's replica once, then
// loops on the control block until told to exit. The workers run a whole epoch on their own, the
// main thread only reading the outcomes as they come (waking it every step would cost more than a
// small step's synchronization). A step, on every worker:
//   gradient: gather its shard → forward → backward into its own slot          → barrier
//   reduce:   pieces of the gradient into slot 0, checked: summed over the slots, or for large
//             weights (batch-weights.ts) their rows of dW computed over the whole batch → barrier
//   update:   the pieces it reduced, each updated by the optimizer and its weight rows packed → barrier
// Every worker reads the same flags after the same barrier, so all skip a non-finite step or none.
// With weights over the batch, each worker also bounds its gradient from its dZ and X; when the
// bounds prove the step's gradient finite (nearly always) it needs no check, and each piece's dW is
// computed inside the update, still in cache when it is applied: a barrier and a pass over it less.
// The parameters are cut into one slice per worker, and slices into pieces (partition.ts). A worker
// takes its own slice's pieces first, then pieces from the back of a partner's: a core that the
// machine slows down is not waited for. A worker that finished its backward pass early also takes
// pieces of the layers every worker has published while it waits at the gradient barrier. A piece
// gives the same bits whoever takes it. The packed weights are what every worker's products read.
import { performance } from 'node:perf_hooks';
import { type Dataset, datasetFromShared } from '../../data/dataset.js';
import { GradientAllreduce } from '../mpi/gradient.js';
import { mpiAddon } from '../mpi/world.js';
import { native } from '../../native.js';
import { packDenseWeight, packedWeightAlignment } from '../../nn/dense.js';
import { Model } from '../../nn/model.js';
import { markLoaded } from '../../util/thread-pool.js';
import { type UpdateRule, updateRule } from '../../optim/optimizer.js';
import { census } from '../guard.js';
import { Replica } from '../replica.js';
import { Barrier, waitForChange } from './barrier.js';
import { BatchWeightGradients, shardBuffers } from './batch-weights.js';
import { Shard, type SlicePiece, evaluationPart, minShardRows, sliceBounds, slicePieces, workerCapacity } from './partition.js';
import { Command, Control, Result, StepStatus, type TrainTask, type WorkerTask, Word } from './protocol.js';

/**
 * The main thread is woken with progress at most this often (and at the end of the epoch). Each wake
 * takes a core from a worker for a moment, and its partners wait for it at the next barrier.
 */
const NOTIFY_MS = 20;

markLoaded();

export default function run(task: WorkerTask): void {
  if (task.kind === 'train') new TrainingWorker(task).serve();
}

/**
 * Floats of a slice piece: with its gradient, weights, optimizer state and packed rows, a piece
 * stays in the core's own cache from its reduce to its packing.
 */
const PIECE_FLOATS = 65536;

/** A piece of the worker's slice with its views of the parameters, the gradient (slot 0) and the state. */
interface UpdatePiece extends SlicePiece {
  params: Float32Array;
  gradient: Float32Array;
  /** The gradient of its weight rows. */
  weightGradient: Float32Array;
  state: Float32Array[];
}

/** Milliseconds a worker spent in each phase over an epoch's steps. */
interface PhaseTotals {
  gradient: number;
  reduce: number;
  update: number;
}

class TrainingWorker {
  private readonly w: number;
  private readonly W: number;
  private readonly control: Control;
  private readonly ints: Int32Array;
  private readonly barrier: Barrier;
  private readonly finished: Barrier;
  private readonly replica: Replica;
  private readonly data: Dataset;
  private readonly evalData: Dataset | null;
  private readonly rule: UpdateRule;
  /** The rank's part of the current batch and of the next one (the whole batches without MPI). */
  private readonly part: Shard;
  private readonly nextPart: Shard;
  /** Its rows of the rank's part of the current batch, and of the next one (prefetched). */
  private readonly shard: Shard;
  private readonly nextShard: Shard;
  /**
   * With several ranks, the sum of slot 0 over them. A lone worker starts each layer's collective
   * during its backward pass; with several, the last to finish the step's reduction runs them all.
   */
  private readonly sync: GradientAllreduce | null;
  /** The step's forward fault (for exchange), whether the rank had no rows. */
  private stepFault = 0;
  private stepEmpty = false;
  /**
   * Every worker's slice of the parameters, in pieces that are reduced, checked, updated and packed
   * one at a time. Each worker takes its own slice's from the front, then its partners' from the back.
   */
  private readonly slices: UpdatePiece[][];
  /** The pieces it took in the current step, in order: it updates each one it took. */
  private readonly taken: UpdatePiece[] = [];
  /** Shards of the current step with rows (read while taking pieces ahead of the gradient barrier). */
  private active = 0;
  /** A test's stall is due before the first layer is published (FaultForTesting). */
  private stallDue = false;
  /** Its part of the weight gradients over the batch (null: they are summed over the slots). */
  private readonly batchWeights: BatchWeightGradients | null;
  /** Whether it bounds its gradient: weights over the batch, one rank, no norm layers (whose gradients the bound does not cover). */
  private readonly boundable: boolean;
  /** Optimizer updates applied so far (Adam's bias correction counts them; every worker counts the same). */
  private applied: number;
  private lastNotify = 0;
  /** The step being completed, its active shards, and whether the epoch stops there (read by completeStep). */
  private endingStep = 0;
  private endingActive = 0;
  private endingStops = false;

  constructor(private readonly task: TrainTask) {
    const { index, workers, spec, params, slots, optimizerState, packed, precision, spinMicros } = task;
    this.w = index;
    this.W = workers;
    this.control = new Control(task.control, workers);
    this.ints = this.control.ints;
    this.barrier = new Barrier(this.ints, workers, Word.BarrierArrived, Word.BarrierGeneration, spinMicros);
    this.finished = new Barrier(this.ints, workers, Word.FinishedArrived, Word.Finished, spinMicros);

    const paramCount = params.length;
    const bufferCount = task.buffers.length;
    const buffers = task.bufferCopies.subarray(index * bufferCount, (index + 1) * bufferCount);
    const model = new Model(spec, params, buffers);
    const minRows = minShardRows(spec);
    this.part = new Shard(task.ranks, task.rank, minRows);
    this.nextPart = new Shard(task.ranks, task.rank, minRows);
    this.shard = new Shard(workers, index, minRows);
    this.nextShard = new Shard(workers, index, minRows);
    const slot = slots.subarray(index * paramCount, (index + 1) * paramCount);
    const shared = task.batch ? shardBuffers(task.batch, model.layout, index) : undefined;
    this.replica = new Replica(model, workerCapacity(task.batchSize, task.ranks, workers, minRows), slot, { buffers, packed, precision, shared });
    this.sync = task.ranks > 1 ? new GradientAllreduce(mpiAddon(), slots.subarray(0, paramCount), model.layout) : null;
    this.data = datasetFromShared(task.data);
    this.evalData = task.evalData && datasetFromShared(task.evalData);
    this.rule = updateRule(task.optimizer);
    this.applied = task.applied;

    const bounds = sliceBounds(model.layout, workers, packedWeightAlignment(precision));
    this.slices = Array.from({ length: workers }, (_, v) =>
      slicePieces(model.layout, bounds[v], bounds[v + 1], packedWeightAlignment(precision), PIECE_FLOATS).map((p) => ({
        ...p,
        params: params.subarray(p.begin, p.end),
        gradient: slots.subarray(p.begin, p.end),
        weightGradient: slots.subarray(p.begin, p.weightEnd),
        state: optimizerState.map((s) => s.subarray(p.begin, p.end)),
      })),
    );
    const dense = this.replica.train.layers.map((l) => l.dense);
    this.batchWeights = task.batch && new BatchWeightGradients(task.batch, model.layout, workers, index, dense);
    this.boundable = this.sync === null && spec.norm === 'none' && this.batchWeights !== null;
  }

  /** Announces itself, then runs commands until Exit or abort. */
  serve(): void {
    const { ints } = this;
    this.warmUp();
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

  /**
   * A forward and backward pass over the first rows of the data, its gradient thrown away (the
   * first step writes its slot anew, and every epoch restarts the statistics): the page faults of
   * the fresh buffers and the first calls happen while the caller still sets up, not in the first step.
   */
  private warmUp(): void {
    const net = this.replica.train;
    const rows = Math.min(net.capacity, this.data.count);
    this.data.gather(this.task.order, 0, rows, net.input, net.y);
    net.forward(rows, 'train');
    net.backward(rows, 0);
  }

  /** The epoch's steps, until the last or a halt; false when the engine aborted. */
  private epoch(): boolean {
    const { ints, control, w } = this;
    const totals: PhaseTotals = { gradient: 0, reduce: 0, update: 0 };
    // The parameters and statistics may have changed since the last epoch (a model loaded, or edited,
    // in between; the statistics averaged over the ranks).
    this.pack();
    this.restartStatistics();
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

  /** Step s of the epoch; false when the engine aborted. */
  private step(s: number, totals: PhaseTotals): boolean {
    const { ints, control } = this;
    const { batchSize, log } = this.task;
    const start = s * batchSize;
    const count = Math.min(batchSize, this.data.count - start);
    const stopOnNonFinite = ints[Word.StopOnNonFinite] !== 0;
    this.injectFault(ints[Word.StepsBefore] + s + 1);
    const { part } = this;
    part.of(count);
    const active = this.shard.of(part.rows);
    this.active = active;

    let t = performance.now();
    const forwardRows = this.computeGradient(start + part.begin, count);
    totals.gradient += performance.now() - t;
    if (!this.barrier.arrive(this.batchWeights ? this.restartLayers : undefined, this.boundable ? this.takeAhead : undefined)) return false;

    const fault = control.firstForwardFault();
    if (this.sync) return this.distributedStep(s, active, fault, forwardRows, stopOnNonFinite, totals);
    if (fault !== 0) {
      this.countNonFinite(fault, forwardRows);
      if (this.w === 0) this.logSkip(s, fault);
      return this.endStep(s, active, stopOnNonFinite);
    }
    if (control.gradientBounded()) return this.applyStep(s, active, true, totals);

    t = performance.now();
    this.reduce(active);
    totals.reduce += performance.now() - t;
    if (!this.barrier.arrive()) return false;

    if (control.anyGradientBad()) {
      if (this.w === 0) log.status[s] = StepStatus.NonFiniteGradient;
      return this.endStep(s, active, stopOnNonFinite);
    }
    return this.applyStep(s, active, false, totals);
  }

  /**
   * A step of a rank of several: the rank's gradient in slot 0 (reduced over its workers, or made
   * not finite by a forward fault, or zero when the rank had no rows) is summed over the ranks by the
   * last worker to arrive, who checks it; every rank then sees the same sum and makes the same choice.
   */
  private distributedStep(s: number, active: number, fault: number, forwardRows: number, stopOnNonFinite: boolean, totals: PhaseTotals): boolean {
    const { log } = this.task;
    const t = performance.now();
    this.stepFault = fault;
    this.stepEmpty = this.part.rows === 0;
    if (fault !== 0) {
      this.countNonFinite(fault, forwardRows);
      if (this.w === 0) this.logSkip(s, fault);
    } else if (!this.stepEmpty) this.reduce(active);
    if (!this.barrier.arrive(this.exchange)) return false;
    totals.reduce += performance.now() - t;
    if (this.control.anyGradientBad()) {
      if (this.w === 0 && fault === 0) log.status[s] = StepStatus.NonFiniteGradient;
      return this.endStep(s, active, stopOnNonFinite);
    }
    return this.applyStep(s, active, false, totals);
  }

  /**
   * The update phase of step s, which every worker reached with a finite gradient (or `withReduce`,
   * with a bounded one that the update reduces as it goes), then its end.
   */
  private applyStep(s: number, active: number, withReduce: boolean, totals: PhaseTotals): boolean {
    const { log } = this.task;
    const t = performance.now();
    this.update(log.lr[s], withReduce ? active : 0);
    if (this.w === 0) log.status[s] = StepStatus.Applied;
    totals.update += performance.now() - t;
    return this.endStep(s, active, false);
  }

  /** Run by the last worker at the reduction's barrier: slot 0 summed over the ranks, and checked. (A field: no closure per step.) */
  private readonly exchange = (): void => {
    const { ints, control } = this;
    const slot0 = this.task.slots.subarray(0, this.task.params.length);
    if (this.stepFault !== 0) slot0.fill(NaN);
    else if (this.stepEmpty) slot0.fill(0);
    this.sync!.finish();
    for (let w = 0; w < this.W; w++) ints[control.gradientBad(w)] = 0;
    ints[control.gradientBad(0)] = Number.isFinite(native.maxAbs(slot0, slot0.length)) ? 0 : 1;
  };

  /**
   * Forward and backward over its shard of the rank's part of the batch (the part starting at
   * `start`) into its slot, the loss scaled by 1/count (the whole batch) so that the slots, summed
   * over workers and ranks, give the batch's mean-loss gradient. Publishes its loss, correct count
   * and forward fault; returns the rows the network still holds (for the census).
   */
  private computeGradient(start: number, count: number): number {
    const { control, w, shard } = this;
    let lossSum = 0;
    let correct = 0;
    let fault = 0;
    let rows = 0;
    let bound = this.boundable ? 0 : Number.POSITIVE_INFINITY;
    this.resetClaims();
    // Layer by layer as the backward pass completes them, when the shard runs in one chunk.
    const publishEach = this.boundable && shard.rows <= this.replica.train.capacity;
    if (shard.rows > 0) {
      // A lone worker's slot is the rank's gradient: each layer's sum over the ranks starts as soon as it is complete.
      const layerDone = this.W === 1 ? this.sync?.hook : publishEach ? this.publishLayer : undefined;
      const out = this.replica.gradient(this.data, this.task.order, start + shard.begin, shard.rows, 1 / count, layerDone);
      lossSum = out.lossSum;
      correct = out.correct;
      rows = out.chunkRows;
      if (out.nonFinite) fault = out.nonFinite.quantity === 'loss' ? this.replica.train.layers.length + 1 : out.nonFinite.layer;
      else {
        if (!publishEach) this.batchWeights?.publish(shard.rows);
        // The bound covers what the network holds: the shard when it ran in one chunk.
        if (this.boundable) bound = rows === shard.rows ? this.gradientBound(rows) : Number.POSITIVE_INFINITY;
      }
    } else this.batchWeights?.publish(0);
    control.floats[control.result(w, Result.GradientBound)] = bound;
    control.floats[control.result(w, Result.LossSum)] = lossSum;
    control.floats[control.result(w, Result.Correct)] = correct;
    this.ints[control.forwardFault(w)] = fault;
    return rows;
  }

  /**
   * A bound on every element of the gradient its backward pass gave: a weight's is a sum over the
   * rows of dz·x, a bias's of dz (NaN when a dz or x is not a number).
   */
  private gradientBound(rows: number): number {
    const net = this.replica.train;
    let bound = 0;
    for (let i = 0; i < net.layers.length; i++) {
      const { dz, dense } = net.layers[i];
      const x = i > 0 ? net.layers[i - 1].a : net.input;
      bound = Math.max(bound, rows * native.maxAbs(dz, rows * dense.outputs) * Math.max(1, native.maxAbs(x, rows * dense.inputs)));
    }
    return bound;
  }

  /** The pieces it takes of the step's gradient into slot 0 (with those taken ahead), flagged when not finite. */
  private reduce(active: number): void {
    let top = 0;
    for (const p of this.taken) top = Math.max(top, native.maxAbs(p.gradient, p.gradient.length));
    for (let p = this.claim(false); p !== null; p = this.claim(false)) {
      top = Math.max(top, this.reducePiece(p, active, true));
      this.taken.push(p);
    }
    this.ints[this.control.gradientBad(this.w)] = Number.isFinite(top) ? 0 : 1;
  }

  /**
   * A piece of the step's gradient into slot 0: its weight rows over the batch (when they are), the
   * rest summed over the active shards' slots (empty shards are the last ones; a lone active shard's
   * slot 0 is the gradient itself). Returns its max |value| when `check` (0 or more when not).
   */
  private reducePiece(p: UpdatePiece, active: number, check: boolean): number {
    let top = 0;
    let summed = p.begin;
    if (this.batchWeights && p.layer >= 0) {
      this.batchWeights.rows(p.layer, p.row0, p.row1, p.weightGradient);
      if (check) top = native.maxAbs(p.weightGradient, p.weightGradient.length);
      summed = p.weightEnd;
    }
    if (active > 1) return summed < p.end ? Math.max(top, native.reduceSlots(this.task.slots, active, this.task.params.length, summed, p.end)) : top;
    return check ? native.maxAbs(p.gradient, p.gradient.length) : 0;
  }

  /**
   * Piece by piece, the optimizer and the packing of its weight rows for the next step's products:
   * the pieces it took so far (reduced), then those it takes now, each reduced first when `active` > 0
   * (after a checked reduction none is left; a rank without rows in the step reduced none).
   */
  private update(lr: number, active: number): void {
    this.applied++;
    for (const p of this.taken) this.updatePiece(p, lr);
    for (let p = this.claim(false); p !== null; p = this.claim(false)) {
      if (active > 0) this.reducePiece(p, active, false);
      this.updatePiece(p, lr);
    }
  }

  private updatePiece(p: UpdatePiece, lr: number): void {
    this.rule.update(this.task.optimizer, p.params, p.gradient, p.state, lr, this.applied);
    this.packPiece(p);
  }

  /**
   * While it waits at the gradient barrier: takes a piece whose layer every worker published and
   * computes its gradient, to update it after the barrier; false when none is ready. (A field: no
   * closure per step.)
   */
  private readonly takeAhead = (): boolean => {
    const p = this.claim(true);
    if (p === null) return false;
    this.reducePiece(p, this.active, false);
    this.taken.push(p);
    return true;
  };

  /** Run by the last worker at the gradient barrier: no layer is published in the next step yet. */
  private readonly restartLayers = (): void => this.batchWeights!.restart();

  private readonly publishLayer = (layer: number): void => {
    if (layer === 0 && this.stallDue) {
      this.stallDue = false;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
    this.batchWeights!.publishLayer(layer, this.shard.rows);
  };

  /** Packs the weight rows of its slice; the next barrier makes every packed weight whole. */
  private pack(): void {
    for (const p of this.slices[this.w]) this.packPiece(p);
  }

  /**
   * The next piece it takes: from the front of its own slice, then from the back of a partner's that
   * still has two untaken (the owner keeps the one it takes next, and a slice of one piece stays in
   * its owner's cache); when `ready`, only a piece of weight rows whose layer every worker published.
   * Null when there is none.
   */
  private claim(ready: boolean): UpdatePiece | null {
    const { ints, control, w, W } = this;
    for (let k = 0; k < W; k++) {
      const v = (w + k) % W;
      const slice = this.slices[v];
      if (k > 0 && slice.length < 2) continue;
      const at = control.claims(v);
      for (;;) {
        const claims = Atomics.load(ints, at);
        const front = claims & 0xffff;
        const back = claims >>> 16;
        if (slice.length - front - back < (k === 0 ? 1 : 2)) break;
        const p = slice[k === 0 ? front : slice.length - 1 - back];
        if (ready && (p.layer < 0 || !this.batchWeights!.ready(p.layer))) break;
        if (Atomics.compareExchange(ints, at, claims, claims + (k === 0 ? 1 : 0x10000)) === claims) return p;
      }
    }
    return null;
  }

  /** Its slice's pieces all untaken, before the barrier after which the step's claims begin. */
  private resetClaims(): void {
    Atomics.store(this.ints, this.control.claims(this.w), 0);
    this.taken.length = 0;
  }

  /**
   * The stores go past the caches: every worker read these lines in its last products, and a store
   * that first takes each line back from their caches costs a round trip between cores.
   */
  private packPiece(p: SlicePiece): void {
    if (p.layer >= 0) packDenseWeight(this.replica.train.layers[p.layer].dense, p.row0, p.row1, true);
  }

  /** Records step s as skipped for a forward fault (a layer, or past the last layer the loss). */
  private logSkip(s: number, fault: number): void {
    const { log } = this.task;
    const loss = fault > this.replica.train.layers.length;
    log.status[s] = loss ? StepStatus.NonFiniteLoss : StepStatus.NonFiniteForward;
    log.layer[s] = loss ? 0 : fault;
  }

  /**
   * The barrier that ends step s, after which the next step may read the parameters. Before it, the
   * worker starts fetching its rows of the next step: a shuffled minibatch's rows are misses to
   * memory, and its gather would otherwise wait for them one row at a time.
   */
  private endStep(s: number, active: number, stop: boolean): boolean {
    if (!stop) this.prefetch(s + 1);
    this.endingStep = s;
    this.endingActive = active;
    this.endingStops = stop;
    return this.barrier.arrive(this.completeStep);
  }

  /** Starts fetching its rows (their first chunk) of step s. */
  private prefetch(s: number): void {
    if (s >= this.ints[Word.Steps]) return;
    const { batchSize } = this.task;
    const start = s * batchSize;
    const { nextPart, nextShard: next } = this;
    nextPart.of(Math.min(batchSize, this.data.count - start));
    next.of(nextPart.rows);
    const rows = Math.min(next.rows, this.replica.train.capacity);
    if (rows > 0) this.data.prefetch(this.task.order, start + nextPart.begin + next.begin, rows);
  }

  /**
   * Run by the last worker to arrive at a step's end, once every worker is done with the step: logs
   * its outcome and marks it completed, decides for everyone whether the epoch halts here, and now and
   * then wakes the main thread to read the outcomes. (A field, so that no step allocates a closure.)
   */
  private readonly completeStep = (): void => {
    const { ints } = this;
    this.combineShards(this.endingStep, this.endingActive);
    ints[Word.Halt] = this.endingStops || ints[Word.HaltRequest] !== 0 ? 1 : 0;
    Atomics.store(ints, Word.Completed, this.endingStep + 1);
    const now = performance.now();
    if (now - this.lastNotify >= NOTIFY_MS) {
      this.lastNotify = now;
      Atomics.notify(ints, Word.Finished);
    }
  };

  /**
   * The step's loss and accuracy over the shards, and the running statistics, which move by the
   * mean of the active shards' statistics (each worker moved its own copy with its shard's):
   * buffers = their mean, every copy restarts from it.
   */
  private combineShards(s: number, active: number): void {
    const { control, task } = this;
    let lossSum = 0;
    let correct = 0;
    for (let w = 0; w < this.W; w++) {
      lossSum += control.floats[control.result(w, Result.LossSum)];
      correct += control.floats[control.result(w, Result.Correct)];
    }
    task.log.lossSum[s] = lossSum;
    task.log.correct[s] = correct;

    const { buffers, bufferCopies } = task;
    const n = buffers.length;
    if (n === 0) return;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let w = 0; w < active; w++) sum += bufferCopies[w * n + i];
      buffers[i] = sum / active;
    }
    for (let w = 0; w < this.W; w++) bufferCopies.set(buffers, w * n);
  }

  /**
   * Census of the faulty stage's tensor over the rows the network holds: its shard, or its last chunk
   * when a large shard runs in chunks (the main thread adds the workers' counts up).
   */
  private countNonFinite(fault: number, rows: number): void {
    const { control, w } = this;
    const layers = this.replica.train.layers;
    let tally = { maxFinite: 0, nonFinite: 0 };
    if (fault <= layers.length && rows > 0) {
      const layer = layers[fault - 1];
      tally = census(layer.z, rows * layer.dense.outputs);
    }
    control.floats[control.result(w, Result.MaxFinite)] = tally.maxFinite;
    control.floats[control.result(w, Result.NonFinite)] = tally.nonFinite;
  }

  /** Its copy of the running statistics restarts from the model's. */
  private restartStatistics(): void {
    const { buffers, bufferCopies } = this.task;
    bufferCopies.set(buffers, this.w * buffers.length);
  }

  /** Loss sum, correct count and metric sums over its shard of the evaluation data. */
  private evaluate(): void {
    this.restartStatistics();
    const { control, w, shard } = this;
    const data = this.evalData!;
    const part = evaluationPart(data.count, this.task.ranks, this.task.rank);
    shard.of(part.rows);
    const slots = this.task.evalSums.length / this.task.workers;
    const sums = this.task.evalSums.subarray(w * slots, (w + 1) * slots).fill(0);
    const out = shard.rows > 0 ? this.replica.evaluate(data, this.task.evalOrder!, part.begin + shard.begin, shard.rows, sums) : { lossSum: 0, correct: 0 };
    control.floats[control.result(w, Result.LossSum)] = out.lossSum;
    control.floats[control.result(w, Result.Correct)] = out.correct;
  }

  private injectFault(step: number): void {
    const fault = this.task.faultForTesting;
    if (!fault || fault.worker !== this.w || fault.step !== step) return;
    if (fault.kind === 'stall') {
      this.stallDue = true;
      return;
    }
    if (fault.kind === 'exit') process.exit(3);
    if (fault.kind === 'oom') for (const hoard: number[][] = []; ; ) hoard.push(new Array(1 << 16).fill(step));
    throw new Error(`fault injected for testing at step ${step}`);
  }
}
