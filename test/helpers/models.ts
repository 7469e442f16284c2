// Shared by the model-file tests (and by later comparisons of the native model with its ONNX
// export): seeded random models, an ONNX Runtime call, and a closeness check.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Model } from '../../src/io/fcnn-format.js';
import { layoutOf, view } from '../../src/nn/layout.js';
import { resolveSpec, type ModelSpec } from '../../src/nn/spec.js';
import { Random } from '../../src/util/random.js';

/**
 * A model with random weights (uniform in ±2/√fan-in, so activations stay O(1)), norm gains
 * near 1, shifts near 0, and BatchNorm running statistics that differ from the identity.
 */
export function randomModel(spec: Partial<ModelSpec> & { layers: number[] }, seed: number): Model {
  const full = resolveSpec(spec);
  const layout = layoutOf(full);
  const random = new Random(seed);
  const uniform = (lo: number, hi: number) => random.uniform(lo, hi);
  const params = new Float32Array(layout.paramCount);
  const buffers = new Float32Array(layout.bufferCount);
  for (const layer of layout.layers) {
    const bound = 1 / Math.sqrt(layer.inputs);
    view(params, layer.weight).forEach((_, k, w) => (w[k] = uniform(-2 * bound, 2 * bound)));
    view(params, layer.bias).forEach((_, k, b) => (b[k] = uniform(-0.5, 0.5)));
    if (!layer.norm) continue;
    view(params, layer.norm.weight).forEach((_, k, g) => (g[k] = uniform(0.5, 1.5)));
    view(params, layer.norm.bias).forEach((_, k, b) => (b[k] = uniform(-0.5, 0.5)));
    if (layer.norm.runningMean) view(buffers, layer.norm.runningMean).forEach((_, k, m) => (m[k] = uniform(-0.5, 0.5)));
    if (layer.norm.runningVar) view(buffers, layer.norm.runningVar).forEach((_, k, v) => (v[k] = uniform(0.5, 2)));
  }
  return { spec: full, params, buffers };
}

/** rows × width uniforms in [−2, 2), exactly representable in float32. */
export function randomInputs(rows: number, width: number, seed: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: rows * width }, () => random.uniform(-2, 2));
}

/** Runs an exported ONNX file on x (rows × width) with ONNX Runtime's CPU provider. */
export async function runOnnx(
  path: string,
  x: Float32Array,
  rows: number,
  width: number,
): Promise<{ name: string; data: Float32Array; dims: readonly number[] }> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(path);
  try {
    const outputs = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [rows, width]) });
    const name = session.outputNames[0];
    const out = outputs[name];
    return { name, data: out.data as Float32Array, dims: out.dims };
  } finally {
    await session.release();
  }
}

/** |actual − expected| ≤ tol·max(1, |expected|) element by element, reporting the worst index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let k = 0; k < expected.length; k++) {
    const err = Math.abs(actual[k] - expected[k]) / Math.max(1, Math.abs(expected[k]));
    const counted = Number.isNaN(err) ? Infinity : err;
    if (counted > worst) [worst, at] = [counted, k];
  }
  expect(worst, `worst relative error at ${at}: ${actual[at]} vs ${expected[at]}`).toBeLessThanOrEqual(tol);
}

/** A fresh temporary directory, removed by the returned function. */
export async function temporaryDirectory(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fcnn-io-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Largest |a − b| / (|b| + 1e-3·max|b|), for parameters trained where the workers (or ranks) sum partial gradients that the serial
 * engine does not: the shards' slots (and a shard's chunks; a norm layer's gradients differ more, as
 * each shard normalizes its own rows). Those sums differ from the serial ones in the last bits (~1e-7 relative),
 * and k steps carry that forward. The floor keeps parameters near zero from dividing by almost nothing.
 */
export function relativeError(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + 1e-3 * scale));
  return worst;
}
