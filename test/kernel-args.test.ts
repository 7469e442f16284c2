// Every kernel binding rejects bad arguments with a TypeError or RangeError that names the function
// and the argument, before anything is read or written out of bounds.
import { describe, expect, it } from 'vitest';
import { type Native, native } from '../src/native.js';
import { ACTIVATION_NAMES } from '../src/nn/activations.js';

type Kind = 'f32' | 'i32' | 'u8' | 'dim' | 'number' | 'boolean' | 'code';
type Typed = Float32Array | Int32Array | Uint8Array;
interface Param {
  name: string;
  kind: Kind;
  value: () => unknown;
  optional?: boolean;
  /** What shortening this array by one element is reported as, when not as its own length. */
  short?: RegExp;
}
interface Spec {
  fn: keyof Native;
  params: Param[];
  /** [output, input] pairs that must not overlap. */
  aliases: Array<[string, string]>;
  /** Arguments that are well typed but invalid: [what, index, value, error, message]. */
  invalid?: Array<[string, number, unknown, ErrorConstructor, RegExp]>;
}

const ROWS = 3,
  COLS = 4,
  N = 5;
const f32 = (name: string, length: number, extra: Partial<Param> = {}): Param => ({
  name,
  kind: 'f32',
  value: () => Float32Array.from({ length }, (_, i) => 0.25 * i - 1),
  ...extra,
});
const i32 = (name: string, values: number[], extra: Partial<Param> = {}): Param => ({ name, kind: 'i32', value: () => Int32Array.from(values), ...extra });
const u8 = (name: string, length: number, extra: Partial<Param> = {}): Param => ({
  name,
  kind: 'u8',
  value: () => Uint8Array.from({ length }, (_, i) => i % 7),
  ...extra,
});
const dim = (name: string, value: number): Param => ({ name, kind: 'dim', value: () => value });
const num = (name: string, value: number): Param => ({ name, kind: 'number', value: () => value });
const bool = (name: string, value: boolean): Param => ({ name, kind: 'boolean', value: () => value });
const labels = () => i32('labels', [0, 3, 1]);
const matrix = (name: string) => f32(name, ROWS * COLS);
const rowsCols = [dim('rows', ROWS), dim('cols', COLS)];
const labelCases = (at: number): Spec['invalid'] => [
  ['a label equal to cols', at, Int32Array.of(0, COLS, 1), RangeError, /labels\[1\] = 4 is outside \[0, cols\) = \[0, 4\)/],
  ['a negative label', at, Int32Array.of(0, 1, -1), RangeError, /labels\[2\] = -1 is outside/],
];

// The optimizers compare every state array with params, so a short params is reported from the first one.
const shortParams = { short: /'grads' has 5 elements but 'params' has 4; they must be equal/ };

const SPECS: Spec[] = [
  {
    fn: 'activationForward',
    params: [{ name: 'kind', kind: 'code', value: () => 2 }, num('alpha', 0.1), f32('z', N), f32('a', N), dim('n', N)],
    aliases: [['a', 'z']],
  },
  {
    fn: 'activationBackward',
    params: [{ name: 'kind', kind: 'code', value: () => 4 }, num('alpha', 1), f32('z', N), f32('a', N), f32('da', N), f32('dz', N), dim('n', N)],
    aliases: [
      ['dz', 'z'],
      ['dz', 'a'],
      ['dz', 'da'],
    ],
  },
  {
    fn: 'softmaxCrossEntropy',
    params: [matrix('logits'), labels(), matrix('probs'), ...rowsCols],
    aliases: [
      ['probs', 'logits'],
      ['probs', 'labels'],
    ],
    invalid: labelCases(1),
  },
  {
    fn: 'softmaxCrossEntropyBackward',
    params: [matrix('probs'), labels(), matrix('dlogits'), ...rowsCols, num('scale', 0.5)],
    aliases: [
      ['dlogits', 'probs'],
      ['dlogits', 'labels'],
    ],
    invalid: labelCases(1),
  },
  { fn: 'meanSquaredError', params: [matrix('pred'), labels(), ...rowsCols], aliases: [], invalid: labelCases(1) },
  {
    fn: 'meanSquaredErrorBackward',
    params: [matrix('pred'), labels(), matrix('dpred'), ...rowsCols, num('scale', 0.5)],
    aliases: [
      ['dpred', 'pred'],
      ['dpred', 'labels'],
    ],
    invalid: labelCases(1),
  },
  {
    fn: 'softmax',
    params: [matrix('logits'), matrix('probs'), ...rowsCols],
    aliases: [['probs', 'logits']],
    // Rows of nothing once ran 2^31 empty rows (seconds) for empty arrays.
    invalid: [['cols = 0 with rows', 3, 0, RangeError, /^softmax: argument 'cols' must be at least 1: an empty row has no probabilities$/]],
  },
  { fn: 'countCorrect', params: [matrix('scores'), labels(), ...rowsCols], aliases: [], invalid: labelCases(1) },
  {
    fn: 'argmaxRows',
    params: [matrix('scores'), ...rowsCols, i32('out', [0, 0, 0])],
    aliases: [['out', 'scores']],
    invalid: [['cols = 0 with rows', 2, 0, RangeError, /'cols' must be at least 1/]],
  },
  {
    fn: 'layerNormForward',
    params: [matrix('x'), f32('gamma', COLS), f32('beta', COLS), matrix('y'), f32('mean', ROWS), f32('rstd', ROWS), ...rowsCols, num('eps', 1e-5)],
    aliases: [
      ['y', 'x'],
      ['mean', 'x'],
      ['rstd', 'gamma'],
      ['y', 'mean'],
      ['rstd', 'mean'],
    ],
    invalid: [
      ['cols = 0 with rows', 7, 0, RangeError, /'cols' must be at least 1/],
      ['a negative eps', 8, -1, RangeError, /'eps' must be at least 0/],
    ],
  },
  {
    fn: 'layerNormBackward',
    params: [
      matrix('x'),
      f32('gamma', COLS),
      f32('mean', ROWS),
      f32('rstd', ROWS),
      matrix('dy'),
      matrix('dx'),
      f32('dgamma', COLS),
      f32('dbeta', COLS),
      ...rowsCols,
    ],
    aliases: [
      ['dx', 'dy'],
      ['dgamma', 'gamma'],
      ['dx', 'rstd'],
      ['dbeta', 'dgamma'],
    ],
    invalid: [['cols = 0 with rows', 9, 0, RangeError, /'cols' must be at least 1: an empty row has nothing to normalize/]],
  },
  {
    fn: 'batchNormForward',
    params: [
      matrix('x'),
      f32('gamma', COLS),
      f32('beta', COLS),
      matrix('y'),
      f32('mean', COLS),
      f32('rstd', COLS),
      f32('runningMean', COLS),
      f32('runningVar', COLS),
      ...rowsCols,
      num('eps', 1e-5),
      num('momentum', 0.1),
      bool('training', true),
    ],
    aliases: [
      ['y', 'x'],
      ['runningMean', 'beta'],
      ['runningVar', 'runningMean'],
      ['mean', 'rstd'],
    ],
    invalid: [
      ['a momentum above 1', 11, 1.5, RangeError, /'momentum' must be in \[0, 1\]/],
      ['one row in training', 8, 1, RangeError, /training needs at least 2 rows/],
      ['a negative eps', 10, -1e-5, RangeError, /'eps' must be at least 0/],
      ['cols = 0 with rows', 9, 0, RangeError, /'cols' must be at least 1: an empty row has nothing to normalize/],
    ],
  },
  {
    fn: 'batchNormBackward',
    params: [
      matrix('x'),
      f32('gamma', COLS),
      f32('mean', COLS),
      f32('rstd', COLS),
      matrix('dy'),
      matrix('dx'),
      f32('dgamma', COLS),
      f32('dbeta', COLS),
      ...rowsCols,
    ],
    aliases: [
      ['dx', 'x'],
      ['dgamma', 'mean'],
      ['dbeta', 'dx'],
    ],
    invalid: [['cols = 0 with rows', 9, 0, RangeError, /'cols' must be at least 1: an empty row has nothing to normalize/]],
  },
  {
    fn: 'sgdStep',
    params: [f32('params', N, shortParams), f32('grads', N), num('lr', 0.1), num('weightDecay', 0)],
    aliases: [['params', 'grads']],
    invalid: [['grads one longer', 1, new Float32Array(N + 1), RangeError, /'grads' has 6 elements but 'params' has 5/]],
  },
  {
    fn: 'momentumStep',
    params: [
      f32('params', N, shortParams),
      f32('grads', N),
      f32('velocity', N),
      num('lr', 0.1),
      num('momentum', 0.9),
      num('weightDecay', 0),
      bool('nesterov', false),
    ],
    aliases: [
      ['params', 'velocity'],
      ['velocity', 'grads'],
    ],
  },
  {
    fn: 'adamStep',
    params: [
      f32('params', N, shortParams),
      f32('grads', N),
      f32('m', N),
      f32('v', N),
      num('lr', 1e-3),
      num('beta1', 0.9),
      num('beta2', 0.999),
      num('eps', 1e-8),
      num('weightDecay', 0),
      bool('decoupled', true),
      dim('step', 1),
    ],
    aliases: [
      ['params', 'm'],
      ['m', 'v'],
      ['grads', 'v'],
    ],
    invalid: [
      ['beta1 = 1', 5, 1, RangeError, /'beta1' must be in \[0, 1\)/],
      ['a negative beta2', 6, -0.1, RangeError, /'beta2' must be in \[0, 1\)/],
      ['step 0', 10, 0, RangeError, /'step' counts from 1/],
      ['a negative eps', 7, -1, RangeError, /'eps' must be at least 0/],
    ],
  },
  {
    fn: 'columnSums',
    params: [matrix('x'), ...rowsCols, f32('out', COLS), num('beta', 0)],
    aliases: [['out', 'x']],
  },
  {
    // Two slots of stride 6, summed over [1, 5): the slots need 6 + 5 elements.
    fn: 'reduceSlots',
    params: [f32('slots', 11), dim('count', 2), dim('stride', 6), dim('begin', 1), dim('end', 5)],
    aliases: [],
    invalid: [
      ['no slot', 1, 0, RangeError, /'count' must be at least 1/],
      ['begin after end', 3, 6, RangeError, /'begin' \(6\) is after 'end' \(5\)/],
      ['a stride below end', 2, 4, RangeError, /'stride' \(4\) must be at least 'end' \(5\)/],
    ],
  },
  { fn: 'maxAbs', params: [f32('x', N), dim('n', N)], aliases: [] },
  { fn: 'sumSquares', params: [f32('x', N), dim('n', N)], aliases: [] },
  { fn: 'scale', params: [f32('x', N), dim('n', N), num('s', 2)], aliases: [] },
  {
    // Four images of width 3; indices[1..2] pick images 3 and 0.
    fn: 'gatherRows',
    params: [
      u8('images', 12, { short: /indices\[1\] = 3 is outside the 3 images/ }),
      dim('width', 3),
      i32('indices', [9, 3, 0]),
      dim('start', 1),
      dim('count', 2),
      f32('out', 6),
      num('scale', 1 / 255),
      f32('mean', 3, { optional: true }),
      f32('invStd', 3, { optional: true }),
    ],
    aliases: [
      ['out', 'images'],
      ['out', 'indices'],
      ['out', 'mean'],
      ['out', 'invStd'],
    ],
    invalid: [
      ['an index past the images', 2, Int32Array.of(0, 3, 4), RangeError, /gatherRows: indices\[2\] = 4 is outside the 4 images/],
      ['a negative index', 2, Int32Array.of(0, -2, 1), RangeError, /indices\[1\] = -2 is outside the 4 images/],
      ['width 0', 1, 0, RangeError, /'width' must be at least 1/],
    ],
  },
  {
    fn: 'gatherLabels',
    params: [
      u8('labels', 4, { short: /indices\[1\] = 3 is outside the 3 labels/ }),
      i32('indices', [9, 3, 0]),
      dim('start', 1),
      dim('count', 2),
      i32('out', [0, 0]),
    ],
    aliases: [
      ['out', 'labels'],
      ['out', 'indices'],
    ],
    invalid: [['an index past the labels', 1, Int32Array.of(0, 1, 4), RangeError, /indices\[2\] = 4 is outside the 4 labels/]],
  },
];

function call(spec: Spec, args: unknown[]): unknown {
  return (native[spec.fn] as (...a: unknown[]) => unknown)(...args);
}

const validArgs = (spec: Spec) => spec.params.map((p) => p.value());

function with_(args: unknown[], i: number, value: unknown): unknown[] {
  const copy = [...args];
  copy[i] = value;
  return copy;
}

/** Calls with `args` and expects `error` whose message starts with the function name and matches `message`. */
function expectError(spec: Spec, args: unknown[], error: ErrorConstructor, message: RegExp): void {
  let thrown: unknown;
  try {
    call(spec, args);
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `${spec.fn} should throw`).toBeInstanceOf(error);
  expect((thrown as Error).message).toMatch(new RegExp(`^${spec.fn}: `));
  expect((thrown as Error).message).toMatch(message);
}

/** Same type and contents as `like`, laid over `buffer` at `byteOffset`. */
function viewOver(like: Typed, buffer: ArrayBuffer, byteOffset: number): Typed {
  const Ctor = like.constructor as new (b: ArrayBuffer, o: number, l: number) => Typed;
  const view = new Ctor(buffer, byteOffset, like.length);
  view.set(like as never);
  return view;
}

describe.each(SPECS)('$fn', (spec) => {
  const required = spec.params.filter((p) => !p.optional).length;

  it('accepts the valid arguments', () => {
    expect(() => call(spec, validArgs(spec))).not.toThrow();
  });

  it('rejects too few and too many arguments with a TypeError', () => {
    expectError(spec, validArgs(spec).slice(0, required - 1), TypeError, /expected .*arguments, got/);
    expectError(spec, [...validArgs(spec), 0], TypeError, /expected .*arguments, got/);
  });

  it.each(spec.params.map((p, i) => [p.name, p, i] as const))("rejects a wrongly typed '%s'", (name, p, i) => {
    const args = validArgs(spec);
    const quoted = new RegExp(`'${name}'`);
    switch (p.kind) {
      case 'f32':
      case 'i32':
      case 'u8':
        expectError(spec, with_(args, i, Array.from(args[i] as Typed)), TypeError, quoted);
        expectError(spec, with_(args, i, new Float64Array((args[i] as Typed).length)), TypeError, quoted);
        if (!p.optional) expectError(spec, with_(args, i, undefined), TypeError, quoted);
        break;
      case 'dim':
      case 'code':
        expectError(spec, with_(args, i, '3'), TypeError, quoted);
        expectError(spec, with_(args, i, 1.5), RangeError, quoted);
        expectError(spec, with_(args, i, -1), RangeError, quoted);
        expectError(spec, with_(args, i, 2 ** 31), RangeError, quoted);
        break;
      case 'number':
        expectError(spec, with_(args, i, '1'), TypeError, quoted);
        expectError(spec, with_(args, i, NaN), RangeError, quoted);
        expectError(spec, with_(args, i, Infinity), RangeError, quoted);
        break;
      case 'boolean':
        expectError(spec, with_(args, i, 1), TypeError, quoted);
        break;
    }
    const codes = ACTIVATION_NAMES.length; // one past the last code
    if (p.kind === 'code')
      expectError(spec, with_(args, i, codes), RangeError, new RegExp(`'kind' must be an ActivationCode from 0 to ${codes - 1}, got ${codes}`));
  });

  const arrays = spec.params.map((p, i) => [p.name, p, i] as const).filter(([, p]) => ['f32', 'i32', 'u8'].includes(p.kind));

  it.each(arrays)("rejects '%s' one element too short with a RangeError", (name, p, i) => {
    const args = validArgs(spec);
    const a = args[i] as Typed;
    expectError(spec, with_(args, i, a.subarray(0, a.length - 1)), RangeError, p.short ?? new RegExp(`'${name}' has ${a.length - 1} elements`));
  });

  if (spec.aliases.length > 0) {
    it.each(spec.aliases)("rejects '%s' overlapping '%s' with a TypeError", (output, input) => {
      const args = validArgs(spec);
      const o = spec.params.findIndex((p) => p.name === output),
        i = spec.params.findIndex((p) => p.name === input);
      const a = args[i] as Typed,
        b = args[o] as Typed;
      // b starts on the last element of a (rounded down to b's alignment).
      const offset = Math.floor((a.byteLength - 1) / b.BYTES_PER_ELEMENT) * b.BYTES_PER_ELEMENT;
      const buffer = new ArrayBuffer(a.byteLength + b.byteLength + 8);
      args[i] = viewOver(a, buffer, 0);
      args[o] = viewOver(b, buffer, offset);
      expectError(spec, args, TypeError, new RegExp(`'(${output}' and '${input}|${input}' and '${output})' must not overlap`));
      // Disjoint views of one buffer are fine.
      args[o] = viewOver(b, buffer, Math.ceil(a.byteLength / b.BYTES_PER_ELEMENT) * b.BYTES_PER_ELEMENT);
      args[i] = viewOver(a, buffer, 0);
      expect(() => call(spec, args)).not.toThrow();
    });
  }

  if (spec.invalid) {
    it.each(spec.invalid)('rejects %s', (_what, i, value, error, message) => {
      expectError(spec, with_(validArgs(spec), i, value), error, message);
    });
  }
});
