// Single-threaded GEMM speed on the products that training runs, fp32 (sgemm) and bf16 (gemmBf16)
// side by side, against the measured fp32 FMA peak of one core: `npm run bench:gemm [-- --json]
// [--repeats N]`. Each row carries its precision; the two precisions of a product are timed in
// alternation, repeat after repeat, so that a noisy neighbour slows both alike. vdpbf16ps does twice
// the multiply-adds of an fp32 FMA, so a bf16 row's ratio to the fp32 peak can reach 2 (on a CPU
// without it, the bf16 rows time the emulated kernel).
//
// A dense layer in→out (W is out×in) at batch B runs three products:
//   forward      Y  = X·Wᵀ + b   sgemm(false, true,  B,   out, in)
//   input grad   dX = dY·W       sgemm(false, false, B,   in,  out)
//   weight grad  dW = dYᵀ·X      sgemm(true,  false, out, in,  B)
import { pathToFileURL } from 'node:url';
import { native, type Isa } from '../src/native.js';
import { machineDescription, median, parseBenchArgs, report, secondsPerCall, type BenchOptions, type Row } from './common.js';

export type Precision = 'fp32' | 'bf16';

export interface GemmShape {
  product: string;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  bias: boolean;
}

const NETWORKS = [
  [784, 128, 10],
  [784, 1024, 1024, 10],
];
const BATCHES = [32, 128, 256, 1024];

/** The three products of every layer of the benchmark networks at every batch size, then 1024³. */
export function trainingShapes(): GemmShape[] {
  const shapes: GemmShape[] = [];
  for (const sizes of NETWORKS) {
    for (let l = 0; l + 1 < sizes.length; l++) {
      const [inputs, outputs] = [sizes[l], sizes[l + 1]];
      const layer = `${inputs}→${outputs}`;
      for (const batch of BATCHES) {
        shapes.push(
          { product: `${layer} forward B=${batch}`, m: batch, n: outputs, k: inputs, transA: false, transB: true, bias: true },
          { product: `${layer} input grad B=${batch}`, m: batch, n: inputs, k: outputs, transA: false, transB: false, bias: false },
          { product: `${layer} weight grad B=${batch}`, m: outputs, n: inputs, k: batch, transA: true, transB: false, bias: false },
        );
      }
    }
  }
  shapes.push({ product: '1024³', m: 1024, n: 1024, k: 1024, transA: false, transB: false, bias: false });
  return shapes;
}

function randomArray(length: number): Float32Array {
  const x = new Float32Array(length);
  for (let i = 0; i < length; i++) x[i] = Math.random() * 2 - 1;
  return x;
}

/**
 * Median GFLOP/s (2·m·n·k per call) of one product in each precision over `repeats` timings taken
 * in alternation, each output checked first.
 */
export function measureGemm(shape: GemmShape, repeats: number): Record<Precision, number> {
  const { m, n, k, transA, transB } = shape;
  const a = randomArray(m * k);
  const b = randomArray(k * n);
  const c = new Float32Array(m * n);
  const bias = shape.bias ? randomArray(n) : null;
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const calls: Record<Precision, () => void> = {
    fp32: () => native.sgemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, n, bias),
    bf16: () => native.gemmBf16(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, n, bias),
  };
  const seconds: Record<Precision, number[]> = { fp32: [], bf16: [] };
  for (const precision of ['fp32', 'bf16'] as const) {
    calls[precision](); // the packing buffers grow, the arrays are touched
    checkSample(shape, precision, a, b, c, bias);
  }
  // CPU time, as fmaPeak measures: the ratio to the peak stays meaningful on a shared machine.
  for (let r = 0; r < repeats; r++) for (const precision of ['fp32', 'bf16'] as const) seconds[precision].push(secondsPerCall(calls[precision], 'cpu'));
  const gflops = (precision: Precision) => (2 * m * n * k) / median(seconds[precision]) / 1e9;
  return { fp32: gflops('fp32'), bf16: gflops('bf16') };
}

// Checks a sample of C against float64 dot products, so that a wrong kernel is never timed.
// fp32: the float32 error bound of test/gemm.test.ts; bf16 adds the rounding of both operands,
// 2^-9 relative each.
function checkSample(shape: GemmShape, precision: Precision, a: Float32Array, b: Float32Array, c: Float32Array, bias: Float32Array | null): void {
  const { m, n, k, transA, transB } = shape;
  const rounding = precision === 'bf16' ? 2 * 2 ** -9 + 2 ** -18 : 0;
  for (let s = 0; s < 32; s++) {
    const i = Math.floor(Math.random() * m);
    const j = Math.floor(Math.random() * n);
    let sum = bias ? bias[j] : 0;
    let magnitude = Math.abs(sum);
    for (let p = 0; p < k; p++) {
      const t = (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      sum += t;
      magnitude += Math.abs(t);
    }
    if (!(Math.abs(c[i * n + j] - sum) <= ((3 * k + 2) * 2 ** -24 + rounding) * magnitude))
      throw new Error(`${precision} gemm ${shape.product}: C[${i}][${j}] = ${c[i * n + j]}, expected ${sum}`);
  }
}

/** Single-core FMA peak of `isa` in GFLOP/s: median of three runs of a quarter second. */
export function measurePeak(isa: Isa): number {
  return median([0, 1, 2].map(() => native.fmaPeak(isa, 0.25)));
}

export interface GemmBenchResult {
  machine: string;
  peaks: Partial<Record<Isa, number>>;
  rows: Row[];
}

/** Measures the peaks, then every shape (default: trainingShapes()) on the active ISA, in fp32 and bf16. */
export async function runGemmBench(opts: BenchOptions, shapes: GemmShape[] = trainingShapes()): Promise<GemmBenchResult> {
  const isa = native.isa();
  const available = native.availableIsas();
  const peaks: Partial<Record<Isa, number>> = {};
  for (const candidate of ['avx512', 'avx2', isa] as Isa[])
    if (available.includes(candidate) && peaks[candidate] === undefined) peaks[candidate] = measurePeak(candidate);
  const peakGflops = peaks[isa]!;
  const kernels: Record<Precision, string> = { fp32: isa, bf16: native.bf16Kernel() };
  const rows: Row[] = shapes.flatMap((shape) => {
    const gflops = measureGemm(shape, opts.repeats);
    const { product, m, n, k, transA, transB } = shape;
    return (['fp32', 'bf16'] as const).map((precision) => ({
      bench: 'gemm',
      product,
      precision,
      m,
      n,
      k,
      transA,
      transB,
      isa: kernels[precision],
      gflops: gflops[precision],
      peakGflops,
      ratio: gflops[precision] / peakGflops,
      vsFp32: gflops[precision] / gflops.fp32,
    }));
  });
  return { machine: await machineDescription(), peaks, rows };
}

async function main(): Promise<void> {
  const opts = parseBenchArgs();
  const { machine, peaks, rows } = await runGemmBench(opts);
  if (opts.json) {
    console.log(JSON.stringify({ bench: 'gemm-machine', machine }));
    for (const [isa, gflops] of Object.entries(peaks)) console.log(JSON.stringify({ bench: 'gemm-peak', isa, gflops }));
  } else {
    console.log(machine);
    for (const [isa, gflops] of Object.entries(peaks)) console.log(`FMA peak ${isa}: ${gflops.toFixed(1)} GFLOP/s (one core)`);
    console.log(
      `GEMM on one thread, fp32 on the ${native.isa()} micro-kernel, bf16 on the ${native.bf16Kernel()} one, ` +
        `GFLOP/s per CPU second, median of ${opts.repeats} alternating repeats (ratio: to the fp32 FMA peak):`,
    );
  }
  report(rows, opts.json);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
