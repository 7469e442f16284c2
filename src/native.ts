// The C++ addon's functions (src/addon.ts finds and loads it). Every function checks its
// arguments (types, integer dimensions, array lengths, aliasing) and throws a TypeError or
// RangeError naming the argument; the kernels behind them assume valid input.
import { loadAddon } from './addon.js';

export type Isa = 'avx512' | 'avx2' | 'portable';
export type Bf16Kernel = 'avx512bf16' | 'emulated';

/**
 * The codes of native/kernels/activations.h's Activation, which is their one definition; what each
 * computes is described in src/nn/activations.ts (and test/activations.test.ts checks the two agree).
 */
export enum ActivationCode {
  Linear = 0,
  Relu = 1,
  LeakyRelu = 2,
  Tanh = 3,
  Sigmoid = 4,
  Silu = 5,
}

/** The arguments of sgemm and gemmBf16 (BLAS order; `bias`, of length n, is added to every row of C). */
export type GemmArgs = [
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
  bias?: Float32Array | null,
];

/** The arguments of packB and packBBf16: lanes [lane0, lane1) at depths [depth0, depth1) of op(B) into `packed`. */
export type PackBArgs<P extends Float32Array | Uint16Array> = [
  transB: boolean,
  n: number,
  k: number,
  b: Float32Array,
  ldb: number,
  lane0: number,
  lane1: number,
  depth0: number,
  depth1: number,
  packed: P,
  stream?: boolean,
];

/** The arguments of sgemmPackedB and gemmBf16PackedB: GemmArgs with op(B) from a packed B. */
export type GemmPackedBArgs<P extends Float32Array | Uint16Array> = [
  transA: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  packed: P,
  beta: number,
  c: Float32Array,
  ldc: number,
  bias?: Float32Array | null,
];

/** The arguments of layerNormBackward and batchNormBackward (the statistics saved by the forward pass). */
export type NormBackwardArgs = [
  x: Float32Array,
  gamma: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  dgamma: Float32Array,
  dbeta: Float32Array,
  rows: number,
  cols: number,
];

export interface Native {
  /** ISA of the active GEMM micro-kernel (FCNN_ISA overrides the CPU-feature choice). */
  isa(): Isa;
  /** ISAs this CPU can run, best first. */
  availableIsas(): Isa[];
  /**
   * C = alpha·op(A)·op(B) + beta·C, plus `bias` (length n) added to every row when given.
   * Row-major; op(A) is m×k (A is stored k×m when transA), op(B) is k×n (B is n×k when transB).
   */
  sgemm(...args: GemmArgs): void;
  /**
   * Floats in a fully packed op(B) (k×n): the micro-panels sgemm packs on every call, kept, for a B
   * used by many products (a layer's weights between two updates). The layout is the active
   * micro-kernel's, so a packed B lives only as long as the process.
   */
  packedBSize(n: number, k: number): number;
  /** Lane ranges given to packB start on a multiple of this (the micro-kernel's panel width). */
  packedBAlignment(): number;
  /** Floats from x[0] to its first element on a 64-byte boundary, where a packed op(B) must start. */
  alignmentGap(x: Float32Array): number;
  /**
   * Packs lanes (columns of op(B)) [lane0, lane1) at depths (rows of op(B)) [depth0, depth1) into
   * `packed` (packedBSize(n, k) floats on a 64-byte boundary), so that several threads can each pack
   * the part they own. lane0 is a multiple of packedBAlignment(), and so is lane1 unless it is n.
   * The stores go past the caches when the packed B is larger than L2, or when `stream` is true (for
   * a part that other cores read next: no line is first fetched from their caches); the values are
   * the same either way.
   */
  packB(...args: PackBArgs<Float32Array>): void;
  /** sgemm with op(B) taken from `packed` (packB over all of it): the same result, bit for bit. */
  sgemmPackedB(...args: GemmPackedBArgs<Float32Array>): void;
  /**
   * The bf16 GEMM's kernel: 'avx512bf16' (vdpbf16ps) when the active ISA is avx512 and the CPU has
   * AVX512-BF16, else 'emulated' (the same sums in fp32 arithmetic, for tests; slower than sgemm).
   */
  bf16Kernel(): Bf16Kernel;
  /**
   * sgemm with op(A) and op(B) rounded to bf16 (round to nearest, ties to even; NaN stays NaN, ±Inf
   * stay, subnormals become zeros) and their products summed in fp32; alpha, beta, bias and C fp32.
   * The same arguments and checks as sgemm.
   */
  gemmBf16(...args: GemmArgs): void;
  /** bf16 elements in a fully packed op(B) for gemmBf16PackedB: whole panels, k rounded up to even. */
  packedBSizeBf16(n: number, k: number): number;
  /** Lane ranges given to packBBf16 start on a multiple of this. */
  packedBAlignmentBf16(): number;
  /**
   * packB for gemmBf16PackedB: rounds op(B) to bf16 into `packed` (packedBSizeBf16(n, k) elements on
   * a 64-byte boundary). Depth ranges start on an even depth and end on one or at k.
   */
  packBBf16(...args: PackBArgs<Uint16Array>): void;
  /** gemmBf16 with op(B) taken from `packed` (packBBf16 over all of it): the same result, bit for bit. */
  gemmBf16PackedB(...args: GemmPackedBArgs<Uint16Array>): void;
  /** Single-core fp32 GFLOP/s of an FMA loop on `isa`, run for about `seconds`. */
  fmaPeak(isa: Isa, seconds: number): number;

  /**
   * a[i] = f(z[i]) for i < n; alpha is LeakyReLU's slope or the sigmoid's input scale. NaN propagates
   * (relu(NaN) is NaN), ±Inf give the limits, sigmoid is sign-branched (sigmoid(±1e30) is exactly
   * 1 or 0), and LeakyReLU with slope 0 is ReLU (0, not NaN, at −Inf). tanh, sigmoid and SiLU use a
   * vectorized e^x, not libm: tanh and sigmoid within 2.4 float32 ulps of the exact value, SiLU
   * (x·sigmoid(x), 0 at −Inf) within 3. a must not overlap z.
   */
  activationForward(kind: ActivationCode, alpha: number, z: Float32Array, a: Float32Array, n: number): void;
  /**
   * dz[i] = da[i]·f'(z[i]) for i < n. tanh and sigmoid take f' from a = f(z): 1 − a² and
   * alpha·a·(1 − a); SiLU computes f' from z. ReLU/LeakyReLU use the left slope at exactly 0 (as PyTorch), give NaN for a NaN
   * z, and select rather than multiply, so an infinite da gives 0 (not NaN) where the slope is 0.
   * dz must not overlap z, a or da.
   */
  activationBackward(kind: ActivationCode, alpha: number, z: Float32Array, a: Float32Array, da: Float32Array, dz: Float32Array, n: number): void;

  /**
   * Row-wise softmax of logits into probs (log-sum-exp); returns Σ −log p[label] over rows (double),
   * each term computed as lse − x[label], so it stays finite where p[label] underflows to 0 in float.
   * Non-finite rows take the limits: +Inf logits share the probability equally (the others get 0;
   * the loss is log(#+Inf) for a +Inf label, else +Inf); a row of only −Inf is uniform (the limit of
   * equal logits; loss log(cols)); a row with a NaN gets NaN probabilities and makes the loss NaN.
   * Every function taking labels throws a RangeError naming the first row whose label is outside
   * [0, cols) (outputs of the rows before it are already written). probs must not overlap the inputs.
   */
  softmaxCrossEntropy(logits: Float32Array, labels: Int32Array, probs: Float32Array, rows: number, cols: number): number;
  /** dlogits = (probs − onehot(labels))·scale. */
  softmaxCrossEntropyBackward(probs: Float32Array, labels: Int32Array, dlogits: Float32Array, rows: number, cols: number, scale: number): void;
  /** Σ over rows and columns of (pred − onehot(labels))² (double). */
  meanSquaredError(pred: Float32Array, labels: Int32Array, rows: number, cols: number): number;
  /** dpred = 2·(pred − onehot(labels))·scale. */
  meanSquaredErrorBackward(pred: Float32Array, labels: Int32Array, dpred: Float32Array, rows: number, cols: number, scale: number): void;
  /** Σ (pred[i] − targets[i])² over i < n, in double. */
  squaredError(pred: Float32Array, targets: Float32Array, n: number): number;
  /**
   * probs = sigmoid(alpha·logits); returns Σ binary cross-entropy against targets over i < n, from the
   * logits (max(u, 0) − u·t + log(1 + e^−|u|), u = alpha·logit), finite for every finite logit.
   */
  sigmoidBinaryCrossEntropy(logits: Float32Array, targets: Float32Array, probs: Float32Array, n: number, alpha: number): number;
  /** d[i] = (out[i] − targets[i])·factor for i < n: MSE backward (2·scale), BCE backward on the logits (alpha·scale). */
  targetResidual(out: Float32Array, targets: Float32Array, d: Float32Array, n: number, factor: number): void;
  /** Row-wise softmax (log-sum-exp), for inference, with softmaxCrossEntropy's conventions. */
  softmax(logits: Float32Array, probs: Float32Array, rows: number, cols: number): void;
  /** Number of rows whose arg-max equals the label. */
  countCorrect(scores: Float32Array, labels: Int32Array, rows: number, cols: number): number;
  /** out[r] = arg-max of row r (first index on ties; a row with NaN gives the first NaN's index); cols ≥ 1 when rows > 0. */
  argmaxRows(scores: Float32Array, rows: number, cols: number, out: Int32Array): void;

  /**
   * LayerNorm over each row: y = (x − mean)·rstd·gamma + beta with rstd = 1/√(var + eps), var the
   * biased (population) variance, both computed in double in two passes; saves mean and rstd per row.
   * cols ≥ 1 when rows > 0, eps ≥ 0; outputs must not overlap inputs or each other.
   */
  layerNormForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  /** Writes dx and overwrites dgamma, dbeta. */
  layerNormBackward(...args: NormBackwardArgs): void;
  /**
   * BatchNorm over each column. Training: batch statistics, saved in mean/rstd, and the running
   * statistics move by `momentum` in [0, 1] (running = (1 − momentum)·running + momentum·batch, the
   * unbiased variance for runningVar; like PyTorch, training needs rows ≥ 2). The normalization itself
   * uses the biased batch variance. Evaluation: normalizes with the running statistics, which it
   * leaves unchanged, and writes them to mean and rstd = 1/√(runningVar + eps).
   */
  batchNormForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    runningMean: Float32Array,
    runningVar: Float32Array,
    rows: number,
    cols: number,
    eps: number,
    momentum: number,
    training: boolean,
  ): void;
  /** Writes dx and overwrites dgamma, dbeta (training-mode statistics). */
  batchNormBackward(...args: NormBackwardArgs): void;

  /** p −= lr·(g + weightDecay·p) over the whole arrays (equal lengths, not overlapping). */
  sgdStep(params: Float32Array, grads: Float32Array, lr: number, weightDecay: number): void;
  /** v = momentum·v + (g + wd·p); p −= lr·v, or lr·(g + wd·p + momentum·v) when nesterov. */
  momentumStep(params: Float32Array, grads: Float32Array, velocity: Float32Array, lr: number, momentum: number, weightDecay: number, nesterov: boolean): void;
  /**
   * Adam with bias correction at 1-based `step`, in PyTorch's form: m = β1·m + (1 − β1)·g,
   * v = β2·v + (1 − β2)·g², p −= lr/(1 − β1^t)·m/(√v/√(1 − β2^t) + eps), the corrections in double.
   * decoupled = AdamW (p −= lr·wd·p first, from the p before the step); otherwise weight decay is
   * added to the gradient (L2). β1, β2 in [0, 1), eps ≥ 0, step ≥ 1.
   */
  adamStep(
    params: Float32Array,
    grads: Float32Array,
    m: Float32Array,
    v: Float32Array,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
    step: number,
  ): void;

  /** out = beta·out + Σ_rows x (bias gradients), summed in double; out has length cols. beta = 0 does not read out. */
  columnSums(x: Float32Array, rows: number, cols: number, out: Float32Array, beta: number): void;
  /**
   * slots[i] = Σ_s slots[s·stride + i] for begin ≤ i < end, with begin ≤ end ≤ stride: slot 0
   * receives the sum (the reduce step of data parallelism), in place. Returns max |sum| as maxAbs
   * does (NaN or Infinity when a sum is not finite). Each sum runs in slot order, so the result
   * does not depend on how workers split the range.
   */
  reduceSlots(slots: Float32Array, count: number, stride: number, begin: number, end: number): number;
  /** max |x[i]| over i < n; NaN when any element is NaN, else Infinity when any is infinite; 0 when n = 0. */
  maxAbs(x: Float32Array, n: number): number;
  /** Σ x[i]² over i < n, accumulated in double. */
  sumSquares(x: Float32Array, n: number): number;
  /** x[i] *= s for i < n. */
  scale(x: Float32Array, n: number, s: number): void;

  /**
   * out[r·width + j] = (images[indices[start + r]·width + j]·scale − mean[j])·invStd[j] for r < count;
   * images are uint8 or float32 features; mean and invStd may be null (then 0 and 1). width ≥ 1;
   * the images are the floor(images.length / width) whole rows. Throws a RangeError naming the
   * position and value of the first index outside them (rows before it are already written).
   */
  gatherRows(
    images: Uint8Array | Float32Array,
    width: number,
    indices: Int32Array,
    start: number,
    count: number,
    out: Float32Array,
    scale: number,
    mean?: Float32Array | null,
    invStd?: Float32Array | null,
  ): void;
  /** out[r] = labels[indices[start + r]] for r < count; a RangeError names an index outside the labels. */
  gatherLabels(labels: Uint8Array | Uint16Array | Int32Array, indices: Int32Array, start: number, count: number, out: Int32Array): void;
  /**
   * Starts fetching rows indices[start .. start + count) of `images` into the cache, for a gather
   * later: a hint, which skips indices outside the images and changes no values.
   */
  prefetchRows(images: Uint8Array | Float32Array, width: number, indices: Int32Array, start: number, count: number): void;

  /**
   * Asks the OS (Linux) to back the 2 MiB-aligned part of x's bytes with transparent huge pages when
   * first touched; true when the advice was given (false without an aligned 2 MiB inside x, or off
   * Linux). Values are unchanged; it is worth calling on a large buffer nothing has touched yet.
   */
  adviseHugePages(x: NodeJS.TypedArray): boolean;
}

export const native: Native = loadAddon<Native>();
