// The warnings: silent on healthy numbers, and each unhealthy number named with its layer, its
// value and the healthy reference it was compared with.
import { describe, expect, it } from 'vitest';
import { advise } from '../src/diagnose/advice.js';
import type { LayerStats, NetworkStats } from '../src/diagnose/stats.js';
import { resolveOptimizer } from '../src/optim/optimizer.js';
import { resolveSpec } from '../src/nn/spec.js';

const EMPTY = { min: 0, max: 0, counts: [] };

/** A healthy layer of a He-initialized 784-128-10 ReLU network, with overrides. */
function layer(layer: number, inputs: number, outputs: number, activation: string, over: Partial<LayerStats> = {}): LayerStats {
  return {
    layer,
    activation,
    inputs,
    outputs,
    preActivation: { mean: 0.1, std: 1, maxAbs: 5 },
    activationStats: { mean: 0.5, std: 0.8 },
    deadFraction: activation === 'relu' ? 0.02 : null,
    saturatedFraction: activation === 'sigmoid' || activation === 'tanh' ? 0.01 : null,
    meanSlope: activation === 'sigmoid' ? 0.2 : activation === 'tanh' ? 0.6 : null,
    weightStd: Math.sqrt(2 / inputs),
    initialWeightStd: Math.sqrt(2 / inputs),
    weightNorm: Math.sqrt(2 / inputs) * Math.sqrt(inputs * outputs),
    gradNorm: 0.3,
    updateRatio: 1e-3,
    activationHistogram: EMPTY,
    gradientHistogram: EMPTY,
    ...over,
  };
}

function stats(hidden: Partial<LayerStats> = {}, head: Partial<LayerStats> = {}, headActivation = 'softmax'): NetworkStats {
  return { samples: 512, loss: 0.3, layers: [layer(1, 784, 128, 'relu', hidden), layer(2, 128, 10, headActivation, head)] };
}

const spec = resolveSpec({ layers: [784, 128, 10] });
const sgd = resolveOptimizer('sgd');

describe('advise', () => {
  it('says nothing about a healthy network', () => {
    expect(advise(stats(), { spec, optimizer: sgd })).toEqual([]);
  });

  it("compares the weights' spread with He's for the fan-in", () => {
    // U(−0.5, 0.5): std 0.5/√3.
    const warnings = advise(stats({ initialWeightStd: 0.5 / Math.sqrt(3) }), { spec, optimizer: sgd });
    expect(warnings).toEqual([expect.stringMatching(/^layer 1: weights' std 0\.29 is 5\.7× He's 0\.05\d* for fan-in 784 at initialization — .*--init he$/)]);
    // Trained weights may grow past the init: only the initial spread is judged.
    expect(advise(stats({ weightStd: 1 }), { spec, optimizer: sgd })).toEqual([]);
    const narrow = advise(stats({ initialWeightStd: 0.005 }), { spec, optimizer: sgd });
    expect(narrow).toEqual([expect.stringMatching(/^layer 1: weights' std 0\.005 is 1\/10 of He's/)]);
  });

  it('compares tanh and sigmoid layers with Glorot', () => {
    const tanh = resolveSpec({ layers: [784, 128, 10], activation: 'tanh' });
    const s: NetworkStats = {
      samples: 512,
      loss: 1,
      layers: [
        layer(1, 784, 128, 'tanh', { initialWeightStd: Math.sqrt(2 / 912) * 4 }),
        layer(2, 128, 10, 'softmax', { initialWeightStd: Math.sqrt(2 / 138) }),
      ],
    };
    expect(advise(s, { spec: tanh, optimizer: sgd })).toEqual([expect.stringMatching(/^layer 1: weights' std 0\.19 is 4× Glorot's 0\.047 for fan-in 784/)]);
  });

  it('saturated sigmoid outputs: use softmax + cross-entropy', () => {
    const sigmoidHead = resolveSpec({ layers: [784, 128, 10], output: 'sigmoid' });
    const warnings = advise(stats({}, { saturatedFraction: 0.97, meanSlope: 0.005 }, 'sigmoid'), { spec: sigmoidHead, optimizer: sgd });
    expect(warnings).toEqual(['layer 2 (sigmoid): 97% of outputs saturated; gradients vanish — use softmax + cross-entropy']);
  });

  it('a flat sigmoid that is not saturated (small sigmoid-alpha) shrinks every gradient', () => {
    const seedSpec = resolveSpec({ layers: [784, 128, 10], output: 'sigmoid', sigmoidAlpha: 0.01 });
    const warnings = advise(stats({}, { saturatedFraction: 0, meanSlope: 0.0025 }, 'sigmoid'), { spec: seedSpec, optimizer: sgd });
    expect(warnings).toEqual([
      "layer 2 (sigmoid): the mean slope f'(z) is 0.0025 (sigmoid-alpha 0.01), so every gradient through it shrinks 400× — use softmax + cross-entropy",
    ]);
  });

  it('dead ReLUs', () => {
    const warnings = advise(stats({ deadFraction: 0.4 }), { spec, optimizer: sgd });
    expect(warnings).toEqual([expect.stringMatching(/^layer 1 \(relu\): 40% of units are dead \(zero for all 512 samples\)/)]);
  });

  it('exploding and vanishing gradient norms', () => {
    expect(advise(stats({ gradNorm: 5e3, updateRatio: 1e-3 }), { spec, optimizer: sgd })).toEqual([
      expect.stringMatching(/^layer 1 \(relu\): gradient norm 5000 is exploding/),
    ]);
    expect(advise(stats({ gradNorm: 1e-5, updateRatio: 1e-3 }, { gradNorm: 1 }), { spec, optimizer: sgd })).toEqual([
      expect.stringMatching(/^gradients vanish toward the input: norm 1 at layer 2, 1e-5 at layer 1/),
    ]);
  });

  it('update ratios far from 1e-3, for plain and momentum SGD only', () => {
    const tiny = stats({ updateRatio: 1e-7 }, { updateRatio: 2e-3 });
    expect(advise(tiny, { spec, optimizer: sgd })).toEqual([expect.stringMatching(/^layer 1: updates are tiny \(lr·\|g\|\/\|W\| = 1e-7, healthy ≈ 1e-3\)/)]);
    const huge = stats({}, { updateRatio: 0.5 });
    expect(advise(huge, { spec, optimizer: sgd })).toEqual([expect.stringMatching(/^layer 2: updates are huge \(lr·\|g\|\/\|W\| = 0\.5/)]);
    // Momentum 0.9 steps up to 10× the gradient step: 0.03 becomes 0.3.
    expect(advise(stats({}, { updateRatio: 0.03 }), { spec, optimizer: resolveOptimizer('momentum') })).toHaveLength(1);
    expect(advise(stats({}, { updateRatio: 0.03 }), { spec, optimizer: sgd })).toEqual([]);
    // Adam rescales each parameter: the ratio says nothing about its step.
    expect(advise(tiny, { spec, optimizer: resolveOptimizer('adam') })).toEqual([]);
  });
});
