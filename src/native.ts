// Loads the C++ addon built by cmake-js and describes its functions. Every function checks its
// arguments (types, integer dimensions, array lengths, aliasing) and throws a TypeError or
// RangeError naming the argument; the kernels behind them assume valid input.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Isa = 'avx512' | 'avx2' | 'portable';

/** Activation codes shared with native/kernels/activations.h. */
export enum ActivationCode {
  Linear = 0,
  Relu = 1,
  LeakyRelu = 2,
  Tanh = 3,
  Sigmoid = 4,
}

export interface Native {
  /** ISA of the active GEMM micro-kernel (FCNN_ISA overrides the CPU-feature choice). */
  isa(): Isa;
  /** ISAs this CPU can run, best first. */
  availableIsas(): Isa[];
  /**
   * C = alpha·op(A)·op(B) + beta·C, plus `bias` (length n) added to every row when given.
   * Row-major; op(A) is m×k (A is stored k×m when transA), op(B) is k×n (B is n×k when transB).
   */
  sgemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number,
    c: Float32Array, ldc: number, bias?: Float32Array | null,
  ): void;
  /** Single-core fp32 GFLOP/s of an FMA loop on `isa`, run for about `seconds`. */
  fmaPeak(isa: Isa, seconds: number): number;

  /** a[i] = f(z[i]) for i < n; alpha is LeakyReLU's slope or the sigmoid's input scale. */
  activationForward(kind: ActivationCode, alpha: number, z: Float32Array, a: Float32Array, n: number): void;
  /** dz[i] = da[i]·f'(z[i]) for i < n (a = f(z) is passed for the activations whose derivative uses it). */
  activationBackward(
    kind: ActivationCode, alpha: number, z: Float32Array, a: Float32Array,
    da: Float32Array, dz: Float32Array, n: number,
  ): void;

  /** Row-wise softmax of logits into probs (log-sum-exp); returns Σ −log p[label] over rows (double). */
  softmaxCrossEntropy(logits: Float32Array, labels: Int32Array, probs: Float32Array, rows: number, cols: number): number;
  /** dlogits = (probs − onehot(labels))·scale. */
  softmaxCrossEntropyBackward(
    probs: Float32Array, labels: Int32Array, dlogits: Float32Array, rows: number, cols: number, scale: number,
  ): void;
  /** Σ over rows and columns of (pred − onehot(labels))² (double). */
  meanSquaredError(pred: Float32Array, labels: Int32Array, rows: number, cols: number): number;
  /** dpred = 2·(pred − onehot(labels))·scale. */
  meanSquaredErrorBackward(
    pred: Float32Array, labels: Int32Array, dpred: Float32Array, rows: number, cols: number, scale: number,
  ): void;
  /** Row-wise softmax (log-sum-exp), for inference. */
  softmax(logits: Float32Array, probs: Float32Array, rows: number, cols: number): void;
  /** Number of rows whose arg-max equals the label. */
  countCorrect(scores: Float32Array, labels: Int32Array, rows: number, cols: number): number;
  /** out[r] = arg-max of row r (first index on ties; a row with NaN gives the NaN's index). */
  argmaxRows(scores: Float32Array, rows: number, cols: number, out: Int32Array): void;

  /** LayerNorm over each row: y = (x − mean)·rstd·gamma + beta; saves mean and rstd per row. */
  layerNormForward(
    x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array,
    mean: Float32Array, rstd: Float32Array, rows: number, cols: number, eps: number,
  ): void;
  /** Writes dx and overwrites dgamma, dbeta. */
  layerNormBackward(
    x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array, dy: Float32Array,
    dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, rows: number, cols: number,
  ): void;
  /**
   * BatchNorm over each column. Training: batch statistics, saved in mean/rstd, and the running
   * statistics move by `momentum` (running = (1 − momentum)·running + momentum·batch, unbiased variance).
   * Evaluation: normalizes with the running statistics and leaves them unchanged.
   */
  batchNormForward(
    x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array,
    mean: Float32Array, rstd: Float32Array, runningMean: Float32Array, runningVar: Float32Array,
    rows: number, cols: number, eps: number, momentum: number, training: boolean,
  ): void;
  /** Writes dx and overwrites dgamma, dbeta (training-mode statistics). */
  batchNormBackward(
    x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array, dy: Float32Array,
    dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, rows: number, cols: number,
  ): void;

  /** p −= lr·(g + weightDecay·p) over the whole arrays (equal lengths). */
  sgdStep(params: Float32Array, grads: Float32Array, lr: number, weightDecay: number): void;
  /** v = momentum·v + (g + wd·p); p −= lr·v, or lr·(g + wd·p + momentum·v) when nesterov. */
  momentumStep(
    params: Float32Array, grads: Float32Array, velocity: Float32Array,
    lr: number, momentum: number, weightDecay: number, nesterov: boolean,
  ): void;
  /**
   * Adam with bias correction at 1-based `step`. decoupled = AdamW (p −= lr·wd·p);
   * otherwise weight decay is added to the gradient (L2).
   */
  adamStep(
    params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, lr: number,
    beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number,
  ): void;

  /** out = beta·out + Σ_rows x (bias gradients); out has length cols. */
  columnSums(x: Float32Array, rows: number, cols: number, out: Float32Array, beta: number): void;
  /** out[i] = Σ_s slots[s·stride + i] for begin ≤ i < end (the reduce step of data parallelism). */
  sumSlots(slots: Float32Array, count: number, stride: number, begin: number, end: number, out: Float32Array): void;
  /** max |x[i]| over i < n; NaN when any element is NaN, Infinity when any is infinite. */
  maxAbs(x: Float32Array, n: number): number;
  /** Σ x[i]² over i < n, accumulated in double. */
  sumSquares(x: Float32Array, n: number): number;
  /** x[i] *= s for i < n. */
  scale(x: Float32Array, n: number, s: number): void;

  /**
   * out[r·width + j] = (images[indices[start + r]·width + j]·scale − mean[j])·invStd[j] for r < count;
   * mean and invStd may be null (then 0 and 1). Throws RangeError on an index outside the images.
   */
  gatherRows(
    images: Uint8Array, width: number, indices: Int32Array, start: number, count: number,
    out: Float32Array, scale: number, mean?: Float32Array | null, invStd?: Float32Array | null,
  ): void;
  /** out[r] = labels[indices[start + r]] for r < count. */
  gatherLabels(labels: Uint8Array, indices: Int32Array, start: number, count: number, out: Int32Array): void;
}

function findAddon(): string {
  // The module runs from src/ (tests) or dist/src/ (the package): walk up to the build folder.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'build', 'Release', 'fcnn.node');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(
    'fcnn: the native addon build/Release/fcnn.node was not found. It is built by `npm install` ' +
      '(cmake-js compile); it needs cmake and a C++17 compiler. Run `npm run build:native` to retry and see why it fails.',
  );
}

function load(): Native {
  const path = findAddon();
  try {
    return createRequire(import.meta.url)(path) as Native;
  } catch (err) {
    throw new Error(`fcnn: could not load the native addon at ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export const native: Native = load();
