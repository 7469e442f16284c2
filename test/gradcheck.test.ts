import { describe, expect, it } from 'vitest';
import { gradientCheck } from '../src/diagnose/gradcheck.js';
import { createModel } from '../src/nn/model.js';
import { ACTIVATION_NAMES } from '../src/nn/activations.js';
import { OUTPUTS, defaultLoss, headsFor } from '../src/nn/loss.js';
import { NORMS, type Task } from '../src/nn/spec.js';
import { Random } from '../src/util/random.js';

function batch(rows: number, inputs: number, classes: number, seed: number) {
  const rng = new Random(seed);
  const x = Float32Array.from({ length: rows * inputs }, () => rng.normal());
  const labels = Int32Array.from({ length: rows }, (_, i) => i % classes);
  return { x, labels };
}

describe('gradient check (float32 analytic vs float64 central differences)', () => {
  for (const activation of ACTIVATION_NAMES)
    for (const output of OUTPUTS)
      for (const norm of NORMS)
        it(`${activation} hidden, ${output} head (${output === 'softmax' ? 'cross-entropy' : 'mse'}), norm ${norm}`, () => {
          const model = createModel(
            { layers: [7, 6, 5, 3], activation, output, norm, sigmoidAlpha: activation === 'sigmoid' || output === 'sigmoid' ? 0.7 : 1 },
            { seed: 11, init: 'glorot' },
          );
          const { x, labels } = batch(9, 7, 3, 5);
          const result = gradientCheck(model, x, labels, 9);
          expect(result.tensors.map((t) => t.name)).toEqual(model.layout.params.map((t) => t.name));
          for (const t of result.tensors) expect(t.maxRelativeError, t.name).toBeLessThan(1e-3);
          expect(result.passed).toBe(true);
        });

  for (const task of ['regression', 'multilabel'] as Task[])
    for (const output of headsFor(task))
      it(`${task} with float targets, ${output} head (${defaultLoss(output, task)}), norm batch`, () => {
        const model = createModel({ layers: [7, 6, 5, 3], activation: 'tanh', output, task, norm: 'batch', sigmoidAlpha: 0.7 }, { seed: 11, init: 'glorot' });
        const { x } = batch(9, 7, 3, 5);
        const rng = new Random(8);
        const targets = Float32Array.from({ length: 9 * 3 }, (_, i) => (task === 'multilabel' ? ((i * 7) % 3 === 0 ? 1 : 0) : 3 * rng.normal()));
        const result = gradientCheck(model, x, targets, 9);
        for (const t of result.tensors) expect(t.maxRelativeError, t.name).toBeLessThan(1e-3);
        expect(result.passed).toBe(true);
        // The targets take part: other targets, other gradients.
        const other = gradientCheck(
          model,
          x,
          targets.map((t) => 1 - t),
          9,
        );
        expect(other.tensors[0].worst.analytic).not.toBe(result.tensors[0].worst.analytic);
      });

  it('refuses targets of the wrong kind for the task, and a loss the head does not train with', () => {
    const { x, labels } = batch(4, 5, 3, 1);
    const regression = createModel({ layers: [5, 4, 3], output: 'linear', task: 'regression' }, { seed: 2 });
    expect(() => gradientCheck(regression, x, labels, 4)).toThrow(/regression model needs float target rows/);
    expect(() => gradientCheck(regression, x, new Float32Array(11), 4)).toThrow(/targets has 11 values but 4 rows need 12/);
    const classifier = createModel({ layers: [5, 4, 3] }, { seed: 2 });
    expect(() => gradientCheck(classifier, x, new Float32Array(12), 4)).toThrow(/classification model needs class labels/);
    expect(() => gradientCheck(classifier, x, labels, 4, { loss: 'bce' })).toThrow(/loss bce/);
  });

  it('compares real numbers: float32 rounding is visible below its precision', () => {
    const model = createModel({ layers: [5, 4, 3] }, { seed: 2 });
    const { x, labels } = batch(6, 5, 3, 1);
    const strict = gradientCheck(model, x, labels, 6, { threshold: 1e-12 });
    expect(strict.passed).toBe(false);
    expect(strict.maxRelativeError).toBeGreaterThan(1e-12);
    expect(strict.maxRelativeError).toBeLessThan(1e-3);
  });

  it('leaves the model untouched (BatchNorm statistics go to a scratch copy)', () => {
    const model = createModel({ layers: [5, 4, 3], norm: 'batch' }, { seed: 2 });
    const before = [Float32Array.from(model.params), Float32Array.from(model.buffers)];
    const { x, labels } = batch(6, 5, 3, 1);
    gradientCheck(model, x, labels, 6);
    expect(Array.from(model.params)).toEqual(Array.from(before[0]));
    expect(Array.from(model.buffers)).toEqual(Array.from(before[1]));
  });
});
