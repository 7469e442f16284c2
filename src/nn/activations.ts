// The elementwise activations, one entry each, and everything fcnn knows about one in that entry:
// its name (in specs, model files and the CLI), the native kernel's code, the spec field that
// parameterizes it, the initializer that suits it, its float64 definition and derivative (the
// reference network and the gradient check), its ONNX lowering and what the diagnostics look for.
// Spec validation, the network, the output heads, the ONNX exporter and the diagnostics all read
// this table; the kernel itself is a case in native/kernels/activations.cc (CONTRIBUTING.md).
import { ActivationCode } from '../native.js';
import type { ModelSpec } from './spec.js';

/** What the ONNX exporter lends a lowering: nodes, and float scalars that every layer shares. */
export interface OnnxBuilder {
  /** A node computing `output` (also its name) from `inputs`; returns `output`. */
  node(op: string, inputs: string[], output: string, floatAttributes?: Record<string, number>): string;
  /** The name of a float scalar initializer `name` holding `value` (created on first use). */
  scalar(name: string, value: number): string;
}

export interface ActivationDef {
  code: ActivationCode;
  /** The spec field passed to the kernel as its alpha; null when the activation has no parameter. */
  parameter: 'leakySlope' | 'sigmoidAlpha' | null;
  /** The default initializer: He keeps the variance through rectifiers, Glorot through the rest. */
  init: 'he' | 'glorot';
  /** f(z) in float64, with the kernel's conventions: NaN passes through, ±Inf give the limits. */
  f(z: number, alpha: number): number;
  /** f'(z) in float64, given a = f(z) as well; the left slope at a kink, as the kernel. */
  derivative(z: number, a: number, alpha: number): number;
  /** Appends the nodes that compute `output` = f(x) (opset ONNX_OPSET); returns `output`. */
  onnx(g: OnnxBuilder, x: string, output: string, alpha: number): string;
  /** Diagnostics: units stuck at exactly 0 are dead (rectifiers, whose gradient is then 0 too). */
  canDie: boolean;
  /** Diagnostics: whether an output lies in a flat tail, where the gradient vanishes; null if none. */
  saturated: ((a: number) => boolean) | null;
}

/** Outputs this close to a bound sit in a flat tail of sigmoid or tanh. */
const SATURATION_MARGIN = 0.01;

/** Sign-branched, so that nothing overflows: exactly 0 or 1 far out, NaN for NaN. */
function sigmoid(t: number): number {
  const e = Math.exp(-Math.abs(t));
  return t >= 0 ? 1 / (1 + e) : e / (1 + e);
}

/** sigmoid(alpha·x): ONNX's Sigmoid has no scale, so a Mul by a shared scalar comes first. */
function sigmoidNodes(g: OnnxBuilder, x: string, output: string, alpha: number): string {
  const scaled = alpha === 1 ? x : g.node('Mul', [x, g.scalar('sigmoid_alpha', alpha)], `${output}.scaled`);
  return g.node('Sigmoid', [scaled], output);
}

export const ACTIVATIONS = {
  relu: {
    code: ActivationCode.Relu,
    parameter: null,
    init: 'he',
    // biome-ignore lint/complexity/useMathMinMax: the native kernel's z < 0 test, which keeps -0 (Math.max gives +0)
    f: (z) => (z < 0 ? 0 : z),
    derivative: (z) => (Number.isNaN(z) ? z : z > 0 ? 1 : 0),
    onnx: (g, x, output) => g.node('Relu', [x], output),
    canDie: true,
    saturated: null,
  },
  leaky_relu: {
    code: ActivationCode.LeakyRelu,
    parameter: 'leakySlope',
    init: 'he',
    // With slope 0, −Inf gives 0 (ReLU's limit), not 0·(−Inf) = NaN.
    f: (z, slope) => (z < 0 ? (slope === 0 ? 0 : slope * z) : z),
    derivative: (z, _a, slope) => (Number.isNaN(z) ? z : z > 0 ? 1 : slope),
    onnx: (g, x, output, slope) => g.node('LeakyRelu', [x], output, { alpha: slope }),
    canDie: false,
    saturated: null,
  },
  tanh: {
    code: ActivationCode.Tanh,
    parameter: null,
    init: 'glorot',
    f: (z) => Math.tanh(z),
    derivative: (_z, a) => 1 - a * a,
    onnx: (g, x, output) => g.node('Tanh', [x], output),
    canDie: false,
    saturated: (a) => Math.abs(a) > 1 - SATURATION_MARGIN,
  },
  sigmoid: {
    code: ActivationCode.Sigmoid,
    parameter: 'sigmoidAlpha',
    init: 'glorot',
    f: (z, alpha) => sigmoid(alpha * z),
    derivative: (_z, a, alpha) => alpha * a * (1 - a),
    onnx: sigmoidNodes,
    canDie: false,
    saturated: (a) => a < SATURATION_MARGIN || a > 1 - SATURATION_MARGIN,
  },
  linear: {
    code: ActivationCode.Linear,
    parameter: null,
    init: 'glorot',
    f: (z) => z,
    derivative: () => 1,
    onnx: (g, x, output) => g.node('Identity', [x], output),
    canDie: false,
    saturated: null,
  },
  // SiLU (swish): x·sigmoid(x). Its derivative needs z, not only a: sigmoid(z)·(1 + z·(1 − sigmoid(z))).
  silu: {
    code: ActivationCode.Silu,
    parameter: null,
    init: 'he',
    // −Inf·0 would be NaN where the limit is 0.
    f: (z) => (z === -Infinity ? 0 : z * sigmoid(z)),
    derivative: (z) => {
      if (!Number.isFinite(z)) return Number.isNaN(z) ? z : z > 0 ? 1 : 0;
      const s = sigmoid(z);
      return s + z * s * sigmoid(-z);
    },
    // Opset 17 has no Swish (opset 24 adds it): Sigmoid and Mul compute the same.
    onnx: (g, x, output) => g.node('Mul', [x, g.node('Sigmoid', [x], `${output}.sigmoid`)], output),
    canDie: false,
    saturated: null,
  },
} satisfies Record<string, ActivationDef>;

export type ActivationName = keyof typeof ACTIVATIONS;

/** Every activation, in the table's order (the CLI's help lists them so). */
export const ACTIVATION_NAMES = Object.keys(ACTIVATIONS) as ActivationName[];

/** The kernel's code and alpha for `name` under `spec`: the spec field that parameterizes it, else 0. */
export interface ActivationFn {
  name: ActivationName;
  code: ActivationCode;
  alpha: number;
}

export function activationFn(name: ActivationName, spec: ModelSpec): ActivationFn {
  const def: ActivationDef = ACTIVATIONS[name];
  return { name, code: def.code, alpha: def.parameter === null ? 0 : spec[def.parameter] };
}
