import { describe, expect, it } from 'vitest';
import { layoutOf, view } from '../src/nn/layout.js';
import { referenceForward, referenceLoss } from '../src/nn/reference.js';
import { ACTIVATION_NAMES } from '../src/nn/activations.js';
import { NORMS, resolveSpec, type ModelSpec } from '../src/nn/spec.js';
import { expectClose, randomInputs, randomModel } from './helpers/models.js';

const sigmoid = (t: number) => 1 / (1 + Math.exp(-t));

/** Slabs for `spec` with the named tensors set to the given values (row-major), the rest zero. */
function slabsOf(spec: ModelSpec, values: Record<string, number[]>) {
  const layout = layoutOf(spec);
  const params = new Float64Array(layout.paramCount);
  const buffers = new Float64Array(layout.bufferCount);
  for (const [name, data] of Object.entries(values)) {
    const inParams = layout.params.find((t) => t.name === name);
    const t = inParams ?? layout.buffers.find((b) => b.name === name)!;
    expect(data.length).toBe(t.size);
    (inParams ? params : buffers).set(data, t.offset);
  }
  return { params, buffers };
}

describe('referenceForward on hand-computed networks', () => {
  // 2-3-2: W1 = [[1, 0.5], [-1, 2], [0.25, -0.5]], b1 = [0.1, -0.2, 0.3]; W2 = [[1, -1, 2], [0.5, 0.5, -1]], b2 = [0, 0.2].
  const weights = {
    'layers.0.weight': [1, 0.5, -1, 2, 0.25, -0.5],
    'layers.0.bias': [0.1, -0.2, 0.3],
    'layers.1.weight': [1, -1, 2, 0.5, 0.5, -1],
    'layers.1.bias': [0, 0.2],
  };
  const x = Float64Array.of(1, -2, 0.5, 1);

  it('relu with a softmax head, and its cross-entropy', () => {
    const spec = resolveSpec({ layers: [2, 3, 2] });
    const { params, buffers } = slabsOf(spec, weights);
    // Row 0: z1 = [1 − 1 + 0.1, −1 − 4 − 0.2, 0.25 + 1 + 0.3] = [0.1, −5.2, 1.55] → relu [0.1, 0, 1.55];
    //        z2 = [0.1 + 3.1, 0.05 − 1.55 + 0.2] = [3.2, −1.3], logit gap 4.5.
    // Row 1: z1 = [0.5 + 0.5 + 0.1, −0.5 + 2 − 0.2, 0.125 − 0.5 + 0.3] = [1.1, 1.3, −0.075] → relu [1.1, 1.3, 0];
    //        z2 = [1.1 − 1.3, 0.55 + 0.65 + 0.2] = [−0.2, 1.4], logit gap −1.6.
    const expected = [sigmoid(4.5), sigmoid(-4.5), sigmoid(-1.6), sigmoid(1.6)];
    expectClose(referenceForward(spec, params, buffers, x, 2, 'eval'), expected, 1e-14);
    const labels = Int32Array.of(0, 1);
    const loss = referenceLoss(spec, params, buffers, x, labels, 2, 'cross-entropy', 'eval');
    expect(loss).toBeCloseTo((Math.log1p(Math.exp(-4.5)) + Math.log1p(Math.exp(-1.6))) / 2, 14);
  });

  it('leaky_relu with a scaled sigmoid head, and its MSE', () => {
    const spec = resolveSpec({ layers: [2, 3, 2], activation: 'leaky_relu', leakySlope: 0.1, output: 'sigmoid', sigmoidAlpha: 2 });
    const { params, buffers } = slabsOf(spec, weights);
    // Row 0: hidden [0.1, −0.52, 1.55]; z2 = [0.1 + 0.52 + 3.1, 0.05 − 0.26 − 1.55 + 0.2] = [3.72, −1.56].
    const out = [sigmoid(2 * 3.72), sigmoid(2 * -1.56)];
    expectClose(referenceForward(spec, params, buffers, x.subarray(0, 2), 1, 'eval'), out, 1e-14);
    const loss = referenceLoss(spec, params, buffers, x.subarray(0, 2), Int32Array.of(0), 1, 'mse', 'eval');
    expect(loss).toBeCloseTo((out[0] - 1) ** 2 + out[1] ** 2, 14);
  });

  it('tanh and sigmoid hidden activations with a linear head', () => {
    for (const activation of ['tanh', 'sigmoid'] as const) {
      const spec = resolveSpec({ layers: [2, 3, 2], activation, output: 'linear', sigmoidAlpha: 0.5 });
      const { params, buffers } = slabsOf(spec, weights);
      const f = activation === 'tanh' ? Math.tanh : (t: number) => sigmoid(0.5 * t);
      const [h0, h1, h2] = [f(0.1), f(-5.2), f(1.55)];
      const expected = [h0 - h1 + 2 * h2, 0.5 * h0 + 0.5 * h1 - h2 + 0.2];
      expectClose(referenceForward(spec, params, buffers, x.subarray(0, 2), 1, 'eval'), expected, 1e-14);
    }
  });

  it('LayerNorm normalizes each sample over its features, then scales and shifts', () => {
    const spec = resolveSpec({ layers: [2, 3, 2], activation: 'linear', output: 'linear', norm: 'layer' });
    const { params, buffers } = slabsOf(spec, {
      'layers.0.weight': [1, 0, 2, 0, 3, 0], // z1 = [1, 2, 3] for x = [1, 0]: mean 2, variance 2/3
      'layers.0.bias': [0, 0, 0],
      'layers.0.norm.weight': [1, 1, 2],
      'layers.0.norm.bias': [0, 0.5, 0],
      'layers.1.weight': [1, 0, 0, 0, 1, 1],
      'layers.1.bias': [0, 0],
    });
    const s = 1 / Math.sqrt(2 / 3 + 1e-5);
    // Normalized [−s, 0, s] → scaled [−s, 0.5, 2s] → outputs [−s, 0.5 + 2s].
    expectClose(referenceForward(spec, params, buffers, Float64Array.of(1, 0), 1, 'eval'), [-s, 0.5 + 2 * s], 1e-14);
  });

  it('BatchNorm uses the batch statistics in train mode and the running ones in eval mode', () => {
    const spec = resolveSpec({ layers: [1, 1, 1], activation: 'linear', output: 'linear', norm: 'batch', normEps: 1e-3 });
    const { params, buffers } = slabsOf(spec, {
      'layers.0.weight': [1],
      'layers.0.bias': [0],
      'layers.0.norm.weight': [2],
      'layers.0.norm.bias': [0.5],
      'layers.0.norm.running_mean': [1],
      'layers.0.norm.running_var': [4],
      'layers.1.weight': [1],
      'layers.1.bias': [0],
    });
    const x2 = Float64Array.of(1, 3); // batch mean 2, biased variance 1
    const t = 1 / Math.sqrt(1 + 1e-3);
    expectClose(referenceForward(spec, params, buffers, x2, 2, 'train'), [-2 * t + 0.5, 2 * t + 0.5], 1e-14);
    const e = 1 / Math.sqrt(4 + 1e-3);
    expectClose(referenceForward(spec, params, buffers, x2, 2, 'eval'), [0 * e + 0.5, 2 * 2 * e + 0.5], 1e-14);
  });
});

describe('referenceForward properties on random networks', () => {
  it('softmax rows are distributions, for every activation and norm', () => {
    let seed = 10;
    for (const norm of NORMS)
      for (const activation of ACTIVATION_NAMES) {
        const model = randomModel({ layers: [5, 8, 6, 7], activation, norm }, seed++);
        for (const mode of ['train', 'eval'] as const) {
          const out = referenceForward(model.spec, model.params, model.buffers, Float64Array.from(randomInputs(6, 5, seed)), 6, mode);
          for (let r = 0; r < 6; r++) {
            const row = out.subarray(r * 7, (r + 1) * 7);
            expect(row.every((p) => p > 0 && p < 1)).toBe(true);
            expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
          }
        }
      }
  });

  it('BatchNorm in train mode gives each feature zero batch mean (seen through a linear layer)', () => {
    const model = randomModel({ layers: [4, 6, 3], activation: 'linear', output: 'linear', norm: 'batch' }, 3);
    const rows = 16;
    const out = referenceForward(model.spec, model.params, model.buffers, Float64Array.from(randomInputs(rows, 4, 4)), rows, 'train');
    // Normalized features average 0, so after gamma/beta they average beta, and out averages W2·beta + b2.
    const layout = layoutOf(model.spec);
    const beta = view(model.params, layout.layers[0].norm!.bias);
    const w2 = view(model.params, layout.layers[1].weight);
    const b2 = view(model.params, layout.layers[1].bias);
    for (let c = 0; c < 3; c++) {
      let mean = 0;
      for (let r = 0; r < rows; r++) mean += out[r * 3 + c] / rows;
      let expected = b2[c];
      for (let h = 0; h < 6; h++) expected += w2[c * 6 + h] * beta[h];
      expect(mean).toBeCloseTo(expected, 12);
    }
  });

  it('BatchNorm in eval mode with the batch statistics as running statistics equals train mode', () => {
    const model = randomModel({ layers: [4, 5, 3], activation: 'tanh', norm: 'batch' }, 8);
    const rows = 10;
    const x = Float64Array.from(randomInputs(rows, 4, 9));
    const layout = layoutOf(model.spec);
    const w = view(model.params, layout.layers[0].weight);
    const b = view(model.params, layout.layers[0].bias);
    const buffers = new Float64Array(layout.bufferCount);
    for (let o = 0; o < 5; o++) {
      const z = Array.from({ length: rows }, (_, r) => b[o] + [0, 1, 2, 3].reduce((s, i) => s + x[r * 4 + i] * w[o * 4 + i], 0));
      const mean = z.reduce((s, v) => s + v, 0) / rows;
      buffers[layout.layers[0].norm!.runningMean!.offset + o] = mean;
      buffers[layout.layers[0].norm!.runningVar!.offset + o] = z.reduce((s, v) => s + (v - mean) ** 2, 0) / rows;
    }
    expectClose(
      referenceForward(model.spec, model.params, buffers, x, rows, 'eval'),
      referenceForward(model.spec, model.params, model.buffers, x, rows, 'train'),
      1e-12,
    );
  });

  it('reads Float32Array and Float64Array slabs alike', () => {
    const model = randomModel({ layers: [3, 4, 2], norm: 'layer' }, 12);
    const x = Float64Array.from(randomInputs(3, 3, 13));
    expect(referenceForward(model.spec, Float64Array.from(model.params), Float64Array.from(model.buffers), x, 3, 'eval')).toEqual(
      referenceForward(model.spec, model.params, model.buffers, x, 3, 'eval'),
    );
  });
});

describe('referenceLoss', () => {
  it('cross-entropy is the mean −log of the softmax outputs at the labels; MSE the mean squared distance to one-hot', () => {
    const labels = Int32Array.of(2, 0, 1, 2, 1);
    const x = Float64Array.from(randomInputs(5, 4, 21));
    for (const [output, loss] of [
      ['softmax', 'cross-entropy'],
      ['softmax', 'mse'],
      ['sigmoid', 'mse'],
      ['linear', 'mse'],
    ] as const) {
      const model = randomModel({ layers: [4, 6, 3], output }, 20);
      const out = referenceForward(model.spec, model.params, model.buffers, x, 5, 'eval');
      let expected = 0;
      for (let r = 0; r < 5; r++) {
        if (loss === 'cross-entropy') expected -= Math.log(out[r * 3 + labels[r]]) / 5;
        else for (let c = 0; c < 3; c++) expected += (out[r * 3 + c] - (c === labels[r] ? 1 : 0)) ** 2 / 5;
      }
      expect(referenceLoss(model.spec, model.params, model.buffers, x, labels, 5, loss, 'eval')).toBeCloseTo(expected, 12);
    }
  });

  it('cross-entropy stays finite where the probability underflows (log-sum-exp)', () => {
    const spec = resolveSpec({ layers: [1, 2], output: 'softmax' });
    const { params, buffers } = slabsOf(spec, { 'layers.0.weight': [1000, -1000], 'layers.0.bias': [0, 0] });
    const x = Float64Array.of(1); // logits [1000, −1000]: p[1] = e^−2000 underflows to 0
    expect(referenceForward(spec, params, buffers, x, 1, 'eval')[1]).toBe(0);
    expect(referenceLoss(spec, params, buffers, x, Int32Array.of(1), 1, 'cross-entropy', 'eval')).toBeCloseTo(2000, 9);
  });

  it('its central difference in a last-layer bias is the mean of (p − onehot), as softmax cross-entropy requires', () => {
    const model = randomModel({ layers: [4, 5, 3], activation: 'tanh', norm: 'batch' }, 30);
    const rows = 6;
    const x = Float64Array.from(randomInputs(rows, 4, 31));
    const labels = Int32Array.of(0, 1, 2, 2, 1, 0);
    const params = Float64Array.from(model.params);
    const p = referenceForward(model.spec, params, model.buffers, x, rows, 'train');
    const bias = layoutOf(model.spec).layers[1].bias;
    for (let c = 0; c < 3; c++) {
      const h = 1e-6;
      const at = (delta: number) => {
        const shifted = params.slice();
        shifted[bias.offset + c] += delta;
        return referenceLoss(model.spec, shifted, model.buffers, x, labels, rows, 'cross-entropy', 'train');
      };
      let analytic = 0;
      for (let r = 0; r < rows; r++) analytic += (p[r * 3 + c] - (labels[r] === c ? 1 : 0)) / rows;
      expect((at(h) - at(-h)) / (2 * h)).toBeCloseTo(analytic, 8);
    }
  });

  it('rejects mismatched sizes, labels outside the classes, and cross-entropy without softmax', () => {
    const model = randomModel({ layers: [2, 3], output: 'sigmoid' }, 40);
    const x = Float64Array.of(1, 2);
    expect(() => referenceLoss(model.spec, model.params, model.buffers, x, Int32Array.of(3), 1, 'mse', 'eval')).toThrow(/labels\[0\] = 3/);
    expect(() => referenceLoss(model.spec, model.params, model.buffers, x, Int32Array.of(0), 1, 'cross-entropy', 'eval')).toThrow(/softmax/);
    expect(() => referenceForward(model.spec, model.params.subarray(1), model.buffers, x, 1, 'eval')).toThrow(/params has 8/);
    expect(() => referenceForward(model.spec, model.params, model.buffers, x, 2, 'eval')).toThrow(/x has 2 elements/);
  });
});
