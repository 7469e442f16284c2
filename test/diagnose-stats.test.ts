// Layer statistics against a float64 forward and backward pass written out here with plain loops,
// sharing nothing with the network: moments, dead units, saturation, slopes, norms and ratios.
import { describe, expect, it } from 'vitest';
import { histogram, Probe, type LayerStats } from '../src/diagnose/stats.js';
import { view } from '../src/nn/layout.js';
import { createModel, type Model } from '../src/nn/model.js';
import type { ModelSpec } from '../src/nn/spec.js';
import { blobs } from './helpers/arrays.js';

interface ReferenceLayer {
  z: number[][];
  a: number[][];
  dW: number[][];
  W: number[][];
}

/** Forward and backward of the mean loss in float64, for a dense network with the spec's activations. */
function reference(model: Model, x: Float32Array, labels: Int32Array): ReferenceLayer[] {
  const { spec, layout, params } = model;
  const n = labels.length;
  const alpha = spec.sigmoidAlpha;
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-alpha * v));
  const act = (v: number) => (spec.activation === 'relu' ? Math.max(0, v) : spec.activation === 'sigmoid' ? sigmoid(v) : Math.tanh(v));
  const actSlope = (z: number, a: number) => (spec.activation === 'relu' ? (z > 0 ? 1 : 0) : spec.activation === 'sigmoid' ? alpha * a * (1 - a) : 1 - a * a);
  const layers = layout.layers.map((l) => {
    const w = view(params, l.weight);
    return { W: Array.from({ length: l.outputs }, (_, o) => Array.from(w.subarray(o * l.inputs, (o + 1) * l.inputs))), b: Array.from(view(params, l.bias)) };
  });
  let input: number[][] = Array.from({ length: n }, (_, r) => Array.from(x.subarray(r * spec.layers[0], (r + 1) * spec.layers[0])));
  const inputs: number[][][] = [];
  const zs: number[][][] = [];
  const as: number[][][] = [];
  layers.forEach(({ W, b }, i) => {
    inputs.push(input);
    const z = input.map((row) => W.map((wo, o) => wo.reduce((s, wk, k) => s + wk * row[k], b[o])));
    let a: number[][];
    if (i < layers.length - 1) a = z.map((row) => row.map(act));
    else if (spec.output === 'softmax')
      a = z.map((row) => {
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const s = e.reduce((p, q) => p + q, 0);
        return e.map((v) => v / s);
      });
    else a = z.map((row) => row.map(sigmoid));
    zs.push(z);
    as.push(a);
    input = a;
  });
  const last = layers.length - 1;
  let dz = as[last].map((row, r) =>
    row.map((p, c) => {
      const y = c === labels[r] ? 1 : 0;
      return spec.output === 'softmax' ? (p - y) / n : ((2 * (p - y)) / n) * alpha * p * (1 - p);
    }),
  );
  const dWs: number[][][] = [];
  for (let i = last; i >= 0; i--) {
    const { W } = layers[i];
    dWs[i] = W.map((wo, o) => wo.map((_, k) => dz.reduce((s, row, r) => s + row[o] * inputs[i][r][k], 0)));
    if (i > 0) {
      const below = dz.map((row) => W[0].map((_, k) => row.reduce((s, d, o) => s + d * W[o][k], 0)));
      dz = below.map((row, r) => row.map((d, k) => d * actSlope(zs[i - 1][r][k], as[i - 1][r][k])));
    }
  }
  return layers.map((l, i) => ({ z: zs[i], a: as[i], dW: dWs[i], W: l.W }));
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: number[]) => {
  const m = mean(v);
  return Math.sqrt(mean(v.map((x) => (x - m) ** 2)));
};
const norm = (v: number[]) => Math.sqrt(v.reduce((a, b) => a + b * b, 0));

function expectRelative(actual: number, expected: number, tol = 1e-4): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tol * Math.max(1e-3, Math.abs(expected)));
}

function compare(stats: LayerStats, ref: ReferenceLayer, lr: number): void {
  const z = ref.z.flat();
  const a = ref.a.flat();
  expectRelative(stats.preActivation.mean, mean(z));
  expectRelative(stats.preActivation.std, std(z));
  expectRelative(stats.preActivation.maxAbs, Math.max(...z.map(Math.abs)));
  expectRelative(stats.activationStats.mean, mean(a));
  expectRelative(stats.activationStats.std, std(a));
  expectRelative(stats.weightStd, std(ref.W.flat()));
  // The probe was made just now, so the initial spread is the current one.
  expectRelative(stats.initialWeightStd, std(ref.W.flat()));
  expectRelative(stats.weightNorm, norm(ref.W.flat()));
  expectRelative(stats.gradNorm, norm(ref.dW.flat()), 1e-3);
  expectRelative(stats.updateRatio, (lr * norm(ref.dW.flat())) / norm(ref.W.flat()), 1e-3);
}

function setup(spec: Partial<ModelSpec> & { layers: number[] }, count: number) {
  const data = blobs(count, spec.layers[0], spec.layers[spec.layers.length - 1], 7);
  const model = createModel(spec, { seed: 3 });
  return { data, model };
}

describe('Probe.measure', () => {
  it('relu + softmax: moments, norms and dead units match the float64 reference', () => {
    const { data, model } = setup({ layers: [6, 5, 3], activation: 'relu', output: 'softmax' }, 40);
    // Unit 0 of the hidden layer can never fire: a bias far below any input's reach.
    view(model.params, model.layout.layers[0].bias)[0] = -100;
    const lr = 0.05;
    const stats = new Probe(model, data, data.count).measure(lr);
    const ref = reference(model, data.x, data.labels);
    expect(stats.samples).toBe(40);
    stats.layers.forEach((L, i) => compare(L, ref[i], lr));
    const units = ref[0].a[0].length;
    const dead = ref[0].a[0].map((_, u) => ref[0].a.every((row) => row[u] === 0)).filter(Boolean).length;
    expect(dead).toBeGreaterThanOrEqual(1);
    expect(stats.layers[0].deadFraction).toBe(dead / units);
    expect(stats.layers[0].saturatedFraction).toBeNull();
    expect(stats.layers[1].deadFraction).toBeNull();
  });

  it('sigmoid + sigmoid/MSE: saturated fractions and mean slopes match the reference', () => {
    const { data, model } = setup({ layers: [4, 6, 3], activation: 'sigmoid', output: 'sigmoid', sigmoidAlpha: 2 }, 30);
    // Wide weights push many hidden sigmoids into their flat ends.
    const w = view(model.params, model.layout.layers[0].weight);
    for (let i = 0; i < w.length; i++) w[i] *= 8;
    const stats = new Probe(model, data, data.count).measure(0.1);
    const ref = reference(model, data.x, data.labels);
    stats.layers.forEach((L, i) => {
      compare(L, ref[i], 0.1);
      const a = ref[i].a.flat();
      expect(L.saturatedFraction).toBe(a.filter((v) => v < 0.01 || v > 0.99).length / a.length);
      expectRelative(L.meanSlope!, mean(a.map((v) => 2 * v * (1 - v))));
    });
    expect(stats.layers[0].saturatedFraction).toBeGreaterThan(0);
  });

  it('remembers the weights it was made with: the initial spread after the weights have moved', () => {
    const { data, model } = setup({ layers: [6, 5, 3] }, 10);
    const probe = new Probe(model, data, 10);
    const before = probe.measure(0.1).layers.map((L) => L.weightStd);
    for (let i = 0; i < model.params.length; i++) model.params[i] *= 3;
    const after = probe.measure(0.1).layers;
    after.forEach((L, i) => {
      expectRelative(L.initialWeightStd, before[i], 1e-12);
      expectRelative(L.weightStd, 3 * before[i], 1e-6);
    });
  });

  it('leaves the model untouched, BatchNorm running statistics included', () => {
    const { data, model } = setup({ layers: [5, 4, 3], norm: 'batch' }, 20);
    const params = model.params.slice();
    const buffers = model.buffers.slice();
    new Probe(model, data, 16).measure(0.1);
    expect(model.params).toEqual(params);
    expect(model.buffers).toEqual(buffers);
  });
});

describe('histogram', () => {
  it('puts every finite value in one of equal-width bins from min to max', () => {
    const x = Float32Array.from([0, 1, 2, 3, 4, 4, NaN, 10]);
    const h = histogram(x, x.length, 5);
    expect(h.min).toBe(0);
    expect(h.max).toBe(10);
    // Bins of width 2: [0,2) [2,4) [4,6) [6,8) [8,10]; NaN is left out.
    expect(h.counts).toEqual([2, 2, 2, 0, 1]);
  });

  it('a constant input fills the first bin', () => {
    const h = histogram(new Float32Array(7).fill(3), 7, 4);
    expect(h.counts).toEqual([7, 0, 0, 0]);
  });
});
