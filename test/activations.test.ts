// The native kernels against the activation table's float64 definitions: each table entry's code
// must compute what the entry says, which is what ties the TypeScript table to the C++ enum.
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, ACTIVATION_NAMES, type ActivationDef } from '../src/nn/activations.js';
import { ActivationCode, native } from '../src/native.js';
import { LENGTHS, Rng, expectClose } from './reference.js';

/** Parameter values worth testing for each kind of parameter. */
const ALPHAS = { leakySlope: [0.01, 0.3], sigmoidAlpha: [1, 2.5] };

const KINDS = ACTIVATION_NAMES.flatMap((name) => {
  const { code, parameter }: ActivationDef = ACTIVATIONS[name];
  return (parameter === null ? [0] : ALPHAS[parameter]).map((alpha) => [parameter === null ? name : `${name}, ${parameter} ${alpha}`, code, alpha] as const);
});

const definition = (code: ActivationCode): ActivationDef => ACTIVATIONS[ACTIVATION_NAMES.find((n) => ACTIVATIONS[n].code === code)!];
const activation = (code: ActivationCode, alpha: number, z: number) => definition(code).f(z, alpha);
const activationDerivative = (code: ActivationCode, alpha: number, z: number, a: number) => definition(code).derivative(z, a, alpha);

it('the table gives every native activation code exactly once, and the addon knows no other', () => {
  const codes = ACTIVATION_NAMES.map((name) => ACTIVATIONS[name].code).sort((a, b) => a - b);
  expect(codes).toEqual(codes.map((_, i) => i));
  const z = new Float32Array(1);
  expect(() => native.activationForward(codes.length, 0, z, new Float32Array(1), 1)).toThrow(
    `ActivationCode from 0 to ${codes.length - 1}, got ${codes.length}`,
  );
});

function forward(kind: ActivationCode, alpha: number, z: Float32Array): Float32Array {
  const a = new Float32Array(z.length);
  native.activationForward(kind, alpha, z, a, z.length);
  return a;
}

function backward(kind: ActivationCode, alpha: number, z: Float32Array, da: Float32Array, a = forward(kind, alpha, z)): Float32Array {
  const dz = new Float32Array(z.length);
  native.activationBackward(kind, alpha, z, a, da, dz, z.length);
  return dz;
}

describe.each(KINDS)('%s', (_name, kind, alpha) => {
  it.each(LENGTHS)('matches the float64 reference forward and backward, n = %i', (n) => {
    const rng = new Rng(n * 7 + kind);
    const z = rng.floats(n, -6, 6);
    if (n > 2) z[1] = 0; // the kink of the piecewise-linear units
    const da = rng.floats(n, -2, 2);
    const a = forward(kind, alpha, z);
    expectClose(
      a,
      Array.from(z, (v) => activation(kind, alpha, v)),
      1e-6,
      1e-7,
    );
    const expected = Array.from(z, (v, i) => da[i] * activationDerivative(kind, alpha, v, a[i]));
    expectClose(backward(kind, alpha, z, da, a), expected, 1e-6, 1e-7);
  });

  it('touches only the first n elements', () => {
    const z = new Rng(3).floats(10, -3, 3),
      a = new Float32Array(10).fill(42),
      dz = new Float32Array(10).fill(42);
    native.activationForward(kind, alpha, z, a, 7);
    native.activationBackward(kind, alpha, z, a, z, dz, 7);
    expect(Array.from(a.subarray(7))).toEqual([42, 42, 42]);
    expect(Array.from(dz.subarray(7))).toEqual([42, 42, 42]);
  });

  it('propagates NaN forward and backward', () => {
    const z = new Float32Array([NaN, 1, -1, NaN, 0, 2, -2, NaN, 3]);
    const a = forward(kind, alpha, z);
    z.forEach((v, i) => expect(Number.isNaN(a[i]), `a[${i}]`).toBe(Number.isNaN(v)));
    // A NaN input makes f'(z) NaN (linear excepted: f' = 1 whatever z is) ...
    const dz = backward(kind, alpha, z, new Float32Array(z.length).fill(1));
    if (kind !== ActivationCode.Linear) z.forEach((v, i) => expect(Number.isNaN(dz[i]), `dz[${i}]`).toBe(Number.isNaN(v)));
    // ... and a NaN upstream gradient stays NaN wherever f'(z) is not 0.
    const zFinite = new Float32Array([0.5, 1.5, 2]);
    expect(Array.from(backward(kind, alpha, zFinite, new Float32Array(3).fill(NaN))).every(Number.isNaN)).toBe(true);
  });

  it('gives the limits at ±Inf', () => {
    const z = new Float32Array([Infinity, -Infinity]);
    expect(Array.from(forward(kind, alpha, z))).toEqual(Array.from(z, (v) => activation(kind, alpha, v)));
  });
});

/** Distance in float32 ulps of `expected` (float64) from `actual`. */
function ulps(actual: number, expected: number): number {
  if (actual === expected) return 0;
  const magnitude = Math.max(Math.abs(expected), 2 ** -126); // subnormals share the smallest normal's ulp
  return Math.abs(actual - expected) / 2 ** (Math.floor(Math.log2(magnitude)) - 23);
}

describe('accuracy of the vectorized tanh and sigmoid', () => {
  // ±10^u for u from −8 to 2.2: tiny arguments, the switch of tanh's two formulas at 0.625, and the
  // far tails. The C++ implementation was also checked against double on every float (≤ 2.4 ulp).
  const z = Float32Array.from({ length: 80001 }, (_, i) => (i % 2 ? -1 : 1) * 10 ** (-8 + (10.2 * i) / 80000));

  it.each([
    ['tanh', ActivationCode.Tanh, 1],
    ['sigmoid', ActivationCode.Sigmoid, 1],
    ['sigmoid(3·x)', ActivationCode.Sigmoid, 3],
    ['silu', ActivationCode.Silu, 1],
  ] as const)('%s is within 3 float32 ulps of float64 on a dense sweep', (_name, kind, alpha) => {
    const a = forward(kind, alpha, z);
    let worst = 0;
    z.forEach((v, i) => {
      worst = Math.max(worst, ulps(a[i], activation(kind, alpha, Math.fround(alpha * v) / alpha)));
    });
    expect(worst).toBeLessThanOrEqual(3);
  });
});

describe('activation edge cases', () => {
  it('sigmoid(±1e30) is exactly 1 and 0, and sigmoid keeps tiny tails instead of NaN', () => {
    const z = new Float32Array([1e30, -1e30, 90, -90, 1e-30]);
    const a = forward(ActivationCode.Sigmoid, 1, z);
    expect(a[0]).toBe(1);
    expect(a[1]).toBe(0);
    expect(a[2]).toBe(1);
    expect(a[3]).toBeGreaterThan(0); // e^−90 ≈ 8e−40 is a float32 subnormal, not 0
    expectClose([a[3]], [Math.exp(-90)], 1e-2);
    expect(a[4]).toBe(0.5);
    // The derivative at saturation is exactly 0, not NaN.
    expect(Array.from(backward(ActivationCode.Sigmoid, 1, z.subarray(0, 2), new Float32Array([1, 1])))).toEqual([0, 0]);
  });

  it('silu is 0 at −Inf and x far above 0, and its slope goes to 0 and 1, never NaN', () => {
    const z = new Float32Array([-Infinity, -1e30, -200, -104, 200, 1e30, Infinity]);
    const a = forward(ActivationCode.Silu, 0, z);
    expect(Array.from(a.subarray(0, 3), (v) => v + 0)).toEqual([0, 0, 0]);
    expect(a[3]).toBeLessThan(0); // −104·e^−104 ≈ −7e−44 is a float32 subnormal, though e^−104 is not
    expectClose([a[3]], [-104 * Math.exp(-104)], 0.05);
    expect(Array.from(a.subarray(4))).toEqual([200, 1e30, Infinity].map(Math.fround));
    const dz = backward(ActivationCode.Silu, 0, z, new Float32Array(z.length).fill(1));
    expect(Array.from(dz, (v) => v + 0)).toEqual([0, 0, 0, 0, 1, 1, 1]);
  });

  it('leaky_relu with slope 0 is relu, including 0 (not NaN) at −Inf', () => {
    const z = new Float32Array([-Infinity, -2, 0, 3, Infinity]);
    expect(Array.from(forward(ActivationCode.LeakyRelu, 0, z))).toEqual(Array.from(forward(ActivationCode.Relu, 0, z)));
    expect(forward(ActivationCode.LeakyRelu, 0, z)[0]).toBe(0);
  });

  it('relu passes an infinite upstream gradient only where the unit is active', () => {
    const dz = backward(ActivationCode.Relu, 0, new Float32Array([-1, 0, 1]), new Float32Array([Infinity, Infinity, Infinity]));
    expect(Array.from(dz)).toEqual([0, 0, Infinity]);
  });

  it('tanh and sigmoid backward take the derivative from a, not z', () => {
    // With a deliberately inconsistent a, the result follows a: 1 − a² and alpha·a·(1 − a).
    const z = new Float32Array([0.3, -0.7]),
      a = new Float32Array([0.5, 0.25]),
      da = new Float32Array([2, 3]);
    const dz = new Float32Array(2);
    native.activationBackward(ActivationCode.Tanh, 0, z, a, da, dz, 2);
    expectClose(dz, [2 * (1 - 0.25), 3 * (1 - 0.0625)], 1e-7);
    native.activationBackward(ActivationCode.Sigmoid, 2, z, a, da, dz, 2);
    expectClose(dz, [2 * 2 * 0.5 * 0.5, 3 * 2 * 0.25 * 0.75], 1e-7);
  });

  it('n = 0 writes nothing', () => {
    const a = new Float32Array([7]);
    native.activationForward(ActivationCode.Relu, 0, new Float32Array(0), a, 0);
    expect(a[0]).toBe(7);
  });
});
