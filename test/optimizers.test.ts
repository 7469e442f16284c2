import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import { LENGTHS, Rng, adam, expectClose, momentum, sgd } from './reference.js';

/** Runs `step` three times with fresh gradients and checks params (and state) after each step. */
function threeSteps(
  n: number,
  seed: number,
  step: (p: Float32Array, g: Float32Array, t: number) => void,
  reference: (p: Float64Array, g: Float32Array, t: number) => void,
  rtol: number,
  atol: number,
): void {
  const rng = new Rng(seed);
  const p = rng.floats(n, -2, 2),
    ref = Float64Array.from(p);
  for (let t = 1; t <= 3; t++) {
    const g = rng.floats(n, -1, 1);
    step(p, g, t);
    reference(ref, g, t);
    expectClose(p, ref, rtol, atol);
  }
}

describe('sgdStep', () => {
  it('follows p −= lr·(g + wd·p) over three hand-computed steps', () => {
    const p = Float32Array.of(1),
      g = Float32Array.of(0.5);
    const expected = [0.94, 0.8806, 0.821794]; // 1 − 0.1·(0.5 + 0.1·1) = 0.94, then the same from 0.94 …
    for (const e of expected) {
      native.sgdStep(p, g, 0.1, 0.1);
      expectClose(p, [e], 1e-6);
    }
  });

  it.each(LENGTHS)('matches the float64 reference, n = %i', (n) => {
    const h = { lr: 0.05, weightDecay: 1e-3 };
    threeSteps(
      n,
      n,
      (p, g) => native.sgdStep(p, g, h.lr, h.weightDecay),
      (p, g) => sgd(p, g, h),
      1e-6,
      1e-7,
    );
  });
});

describe('momentumStep', () => {
  it('follows v = μv + g; p −= lr·v over three hand-computed steps', () => {
    const p = Float32Array.of(0),
      v = Float32Array.of(0),
      g = Float32Array.of(1);
    for (const [ev, ep] of [
      [1, -0.1],
      [1.9, -0.29],
      [2.71, -0.561],
    ]) {
      native.momentumStep(p, g, v, 0.1, 0.9, 0, false);
      expectClose(v, [ev], 1e-6);
      expectClose(p, [ep], 1e-6);
    }
  });

  it('Nesterov: p −= lr·(g + μv) over three hand-computed steps', () => {
    const p = Float32Array.of(0),
      v = Float32Array.of(0),
      g = Float32Array.of(1);
    for (const ep of [-0.19, -0.461, -0.8049]) {
      native.momentumStep(p, g, v, 0.1, 0.9, 0, true);
      expectClose(p, [ep], 1e-6);
    }
  });

  it.each(
    LENGTHS.flatMap(
      (n) =>
        [
          [n, false],
          [n, true],
        ] as const,
    ),
  )('matches the float64 reference, n = %i, nesterov %s', (n, nesterov) => {
    const h = { lr: 0.05, weightDecay: 1e-2, mu: 0.9, nesterov };
    const v = new Float32Array(n),
      vRef = new Float64Array(n);
    threeSteps(
      n,
      n + 1,
      (p, g) => native.momentumStep(p, g, v, h.lr, h.mu, h.weightDecay, nesterov),
      (p, g) => momentum(p, g, vRef, h),
      1e-5,
      1e-6,
    );
    expectClose(v, vRef, 1e-5, 1e-6);
  });
});

describe('adamStep', () => {
  const base = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
  const run = (p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, weightDecay: number, decoupled: boolean, step: number) =>
    native.adamStep(p, g, m, v, base.lr, base.beta1, base.beta2, base.eps, weightDecay, decoupled, step);

  // Values worked by hand from the update rule: a constant gradient has m̂ = g and v̂ = g² at every
  // step, so Adam moves by lr per step; AdamW first shrinks p by 1 − lr·wd = 0.999.
  it.each([
    ['Adam, constant gradient', 0, false, 1, [2, 2, 2], [0.99, 0.98, 0.97]],
    ['AdamW, constant gradient', 0.1, true, 1, [2, 2, 2], [0.989, 0.978011, 0.967032989]],
    ['Adam, L2 decay', 0.1, false, 1, [2, 2, 2], [0.990000000047619, 0.9800001245306127, 0.9700004561746389]],
    // m̂₂ = (0.09 − 0.2)/0.19, v̂₂ = (0.000999 + 0.004)/0.001999, p₂ = 0.49 − 0.01·m̂₂/√v̂₂ …
    ['Adam, changing gradient', 0, false, 0.5, [1, -2, 0.5], [0.4900000001, 0.4936610353472075, 0.4950279419673822]],
  ] as const)('%s over three hand-computed steps', (_name, weightDecay, decoupled, p0, grads, expected) => {
    const p = Float32Array.of(p0),
      m = new Float32Array(1),
      v = new Float32Array(1);
    grads.forEach((g, t) => {
      run(p, Float32Array.of(g), m, v, weightDecay, decoupled, t + 1);
      expectClose(p, [expected[t]], 1e-6);
    });
  });

  it.each(
    LENGTHS.flatMap(
      (n) =>
        [
          [n, false],
          [n, true],
        ] as const,
    ),
  )('matches the float64 reference, n = %i, decoupled %s', (n, decoupled) => {
    const h = { ...base, weightDecay: 0.05, decoupled };
    const m = new Float32Array(n),
      v = new Float32Array(n),
      mRef = new Float64Array(n),
      vRef = new Float64Array(n);
    threeSteps(
      n,
      n + 2,
      (p, g, t) => run(p, g, m, v, h.weightDecay, decoupled, t),
      (p, g, t) => adam(p, g, mRef, vRef, { ...h, step: t }),
      1e-5,
      1e-6,
    );
    expectClose(m, mRef, 1e-5, 1e-7);
    expectClose(v, vRef, 1e-5, 1e-9);
  });

  it('computes the bias correction in double: a late step with β2 near 1 is still the reference', () => {
    // From p = 0, p after the step is the update itself, so its relative error is visible: 1 − β2³ = 3e−5
    // taken in float is off by about 1e−3 relative.
    const p = Float32Array.of(0),
      m = Float32Array.of(0.5),
      v = Float32Array.of(0.25),
      g = Float32Array.of(0.5);
    const ref = Float64Array.of(0),
      mRef = Float64Array.of(0.5),
      vRef = Float64Array.of(0.25);
    native.adamStep(p, g, m, v, 1e-3, 0.9, 0.99999, 1e-8, 0, false, 3);
    adam(ref, g, mRef, vRef, { lr: 1e-3, beta1: 0.9, beta2: 0.99999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 3 });
    expectClose(p, ref, 1e-5);
  });

  it('updates nothing outside the arrays it is given (a worker slice)', () => {
    const slab = Float32Array.of(1, 2, 3, 4),
      grads = new Float32Array(4).fill(1);
    native.sgdStep(slab.subarray(1, 3), grads.subarray(1, 3), 0.5, 0);
    expect(Array.from(slab)).toEqual([1, 1.5, 2.5, 4]);
  });
});

describe('every optimizer step', () => {
  // The data-parallel workers update the slab in slices and pieces; the serial engine in one call.
  it('gives the slab the same bits however it is cut into calls', () => {
    const n = 1000;
    const cuts = [0, 3, 17, 64, 101, 512, 997, n];
    const steps: [string, (p: Float32Array, g: Float32Array, s: Float32Array[]) => void][] = [
      ['sgd', (p, g) => native.sgdStep(p, g, 0.1, 1e-3)],
      ['momentum', (p, g, [v]) => native.momentumStep(p, g, v, 0.1, 0.9, 1e-3, false)],
      ['nesterov', (p, g, [v]) => native.momentumStep(p, g, v, 0.1, 0.9, 1e-3, true)],
      ['adam', (p, g, [m, v]) => native.adamStep(p, g, m, v, 0.01, 0.9, 0.999, 1e-8, 1e-2, false, 3)],
      ['adamw', (p, g, [m, v]) => native.adamStep(p, g, m, v, 0.01, 0.9, 0.999, 1e-8, 1e-2, true, 3)],
    ];
    for (const [name, step] of steps) {
      const rng = new Rng(7);
      const grads = rng.floats(n, -1, 1);
      const start = [rng.floats(n, -2, 2), rng.floats(n, -1, 1), rng.floats(n, 0, 1)];
      const whole = start.map((a) => a.slice());
      step(whole[0], grads, whole.slice(1));
      const cut = start.map((a) => a.slice());
      for (let i = 0; i + 1 < cuts.length; i++) {
        const part = (a: Float32Array) => a.subarray(cuts[i], cuts[i + 1]);
        step(part(cut[0]), part(grads), cut.slice(1).map(part));
      }
      expect({ name, slabs: cut }).toEqual({ name, slabs: whole });
    }
  });
});
