// Inference over a range of rows, in chunks of a fixed size that start at multiples of that size:
// the same code on the caller's thread and in worker threads, so both give bit-identical outputs
// (a GEMM is free to round differently for a different number of rows).
import type { Dataset } from '../data/dataset.js';
import type { Normalization } from '../data/normalize.js';
import { native } from '../native.js';
import type { Model } from '../nn/model.js';
import { Network } from '../nn/network.js';

/** Rows per forward pass, and the capacity of every inference network. */
export const CHUNK_ROWS = 256;

/**
 * Where rows come from: a data set, normalized by its own normalization (the model's) as it is
 * gathered, or the caller's float rows, normalized by `normalization` as they are gathered (read in
 * place, on the caller's thread and, when they are in shared memory, on the pool's threads).
 */
export type RowSource = { kind: 'dataset'; dataset: Dataset } | { kind: 'rows'; x: Float32Array; normalization: Normalization };

export interface Outputs {
  /** rows × columns outputs of the head (probabilities for softmax). */
  probabilities: Float32Array;
  /** Arg-max column of each row. */
  classes: Int32Array;
}

/** Outputs for `rows` rows of `columns` outputs. */
export function outputs(rows: number, columns: number): Outputs {
  return { probabilities: new Float32Array(rows * columns), classes: new Int32Array(rows) };
}

/**
 * Runs rows [begin, end) of `source` through `net` in evaluation mode and writes their outputs and
 * classes at the same rows of `out`. Ranges that begin at multiples of CHUNK_ROWS give the outputs
 * of a single run from row 0. With `withLoss` (a labelled data set only) the targets are gathered
 * too and the summed loss over the rows is returned; else 0. `awaitRows(last)`, when given, is called
 * before rows up to `last` (exclusive) are read, for rows that are still arriving.
 */
export function inferRows(
  net: Network,
  source: RowSource,
  begin: number,
  end: number,
  out: Outputs,
  withLoss: boolean,
  awaitRows?: (last: number) => void,
): number {
  if (withLoss && !(source.kind === 'dataset' && source.dataset.hasLabels)) throw new TypeError('a loss needs a labelled data set');
  const columns = net.spec.layers[net.spec.layers.length - 1];
  const width = net.spec.layers[0];
  const indices = range(begin, end);
  let lossSum = 0;
  for (let first = begin; first < end; first += CHUNK_ROWS) {
    const rows = Math.min(CHUNK_ROWS, end - first);
    awaitRows?.(first + rows);
    if (source.kind === 'dataset') source.dataset.gather(indices, first - begin, rows, net.input, withLoss ? net.y : null);
    else {
      const { scale, mean, invStd } = source.normalization;
      native.gatherRows(source.x, width, indices, first - begin, rows, net.input, scale, mean ?? null, invStd ?? null);
    }
    lossSum += net.forward(rows, 'eval', withLoss);
    out.probabilities.set(net.output.subarray(0, rows * columns), first * columns);
    native.argmaxRows(net.output, rows, columns, out.classes.subarray(first, first + rows));
  }
  return lossSum;
}

/** A network for inference on `model`; its activations are sized for one chunk. */
export function inferenceNetwork(model: Model): Network {
  return new Network(model, CHUNK_ROWS, null);
}

function range(begin: number, end: number): Int32Array {
  const indices = new Int32Array(end - begin);
  for (let i = 0; i < indices.length; i++) indices[i] = begin + i;
  return indices;
}

const inlineNetworks = new WeakMap<Model, Network>();

/**
 * Inference on the caller's thread, with one network per model kept for later calls (building
 * one costs more than a single-sample forward pass). Synchronous: the calls cannot interleave.
 */
export function inferInline(model: Model, source: RowSource, rows: number, out: Outputs, withLoss: boolean): number {
  let net = inlineNetworks.get(model);
  if (!net) {
    net = inferenceNetwork(model);
    inlineNetworks.set(model, net);
  }
  return inferRows(net, source, 0, rows, out, withLoss);
}
