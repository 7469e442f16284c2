import { describe, expect, it } from 'vitest';
import { initStd, parseInit } from '../src/nn/init.js';
import { view } from '../src/nn/layout.js';
import { createModel } from '../src/nn/model.js';

function moments(x: Float32Array): { mean: number; std: number; maxAbs: number } {
  let s = 0;
  let s2 = 0;
  let m = 0;
  for (const v of x) {
    s += v;
    s2 += v * v;
    m = Math.max(m, Math.abs(v));
  }
  const mean = s / x.length;
  return { mean, std: Math.sqrt(s2 / x.length - mean * mean), maxAbs: m };
}

describe('initializers', () => {
  it('He, Glorot and LeCun draw weights with their standard deviations and zero biases', () => {
    for (const [name, expected] of [
      ['he', Math.sqrt(2 / 784)],
      ['he-uniform', Math.sqrt(2 / 784)],
      ['glorot', Math.sqrt(2 / (784 + 256))],
      ['lecun-uniform', Math.sqrt(1 / 784)],
    ] as const) {
      const model = createModel({ layers: [784, 256, 10] }, { init: name, seed: 3 });
      const w = view(model.params, model.layout.layers[0].weight);
      const m = moments(w);
      expect(Math.abs(m.mean)).toBeLessThan(expected * 0.02);
      expect(m.std / expected).toBeGreaterThan(0.98);
      expect(m.std / expected).toBeLessThan(1.02);
      if (name.endsWith('uniform')) expect(m.maxAbs).toBeLessThanOrEqual(expected * Math.sqrt(3) * (1 + 1e-6));
      expect(view(model.params, model.layout.layers[0].bias).every((b) => b === 0)).toBe(true);
      expect(initStd(parseInit(name), 784, 256)).toBeCloseTo(expected, 12);
    }
  });

  it('uniform:A draws weights and biases from U(-A, A), as the hand-written network did', () => {
    const model = createModel({ layers: [784, 128, 10] }, { init: 'uniform:0.5', seed: 1 });
    const m = moments(model.params);
    expect(m.maxAbs).toBeLessThanOrEqual(0.5);
    expect(m.std).toBeGreaterThan((0.5 / Math.sqrt(3)) * 0.98);
    const bias = view(model.params, model.layout.layers[0].bias);
    expect(bias.some((b) => b !== 0)).toBe(true);
  });

  it('the same seed gives identical parameters, another seed different ones', () => {
    const a = createModel({ layers: [20, 8, 3] }, { seed: 7 });
    const b = createModel({ layers: [20, 8, 3] }, { seed: 7 });
    const c = createModel({ layers: [20, 8, 3] }, { seed: 8 });
    expect(Array.from(a.params)).toEqual(Array.from(b.params));
    expect(Array.from(a.params)).not.toEqual(Array.from(c.params));
  });

  it('norm layers start as identity (gamma 1, beta 0, running variance 1)', () => {
    const model = createModel({ layers: [6, 5, 4, 3], norm: 'batch' });
    const norm = model.layout.layers[0].norm!;
    expect(Array.from(view(model.params, norm.weight))).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(view(model.params, norm.bias))).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(view(model.buffers, norm.runningVar!))).toEqual([1, 1, 1, 1, 1]);
    expect(model.layout.layers[2].norm).toBeUndefined();
  });

  it('refuses unknown initializers and bad limits', () => {
    expect(() => parseInit('orthogonal')).toThrow(/init must be/);
    expect(() => parseInit('uniform:-1')).toThrow(/positive limit/);
  });
});
