// Gradient checking: the library's analytic gradients (native float32 forward and backward) against
// central differences of an independent float64 reference of the same network (src/nn/reference.ts).
// Differences in float64 resolve steps that float32 cannot, so what remains is the float32 rounding
// of the analytic side, which the default threshold allows for.
import { InvalidOptionError } from '../errors.js';
import { type Loss, checkLoss, defaultLoss, hasFloatTargets } from '../nn/loss.js';
import type { Model } from '../nn/model.js';
import { Network } from '../nn/network.js';
import { referenceLoss } from '../nn/reference.js';
import { Random } from '../util/random.js';

export interface GradientCheckOptions {
  loss?: Loss;
  /** Parameters checked per tensor, drawn at random (all when the tensor is smaller). Default 40. */
  samplesPerTensor?: number;
  /** Finite-difference step. Default 1e-5. */
  step?: number;
  /** Largest relative error that passes. Default 1e-3 (float32 analytic gradients). */
  threshold?: number;
  seed?: number;
}

export interface TensorCheck {
  name: string;
  checked: number;
  /** Worst relative error |a − n| / max(|a|, |n|, 1% of the tensor's and 0.1% of the network's largest |n|). */
  maxRelativeError: number;
  worst: { index: number; analytic: number; numeric: number };
}

export interface GradientCheckResult {
  tensors: TensorCheck[];
  maxRelativeError: number;
  threshold: number;
  passed: boolean;
}

/**
 * Checks d(mean loss)/d(params) on one batch (BatchNorm in training mode); x is rows × inputs, targets
 * the task's: class labels (Int32Array, one per row) or float rows (Float32Array, rows × outputs, for
 * regression and multi-label models). The model is not modified (BatchNorm running statistics are
 * updated in a scratch copy).
 */
export function gradientCheck(
  model: Model,
  x: Float32Array,
  targets: Int32Array | Float32Array,
  rows: number,
  options: GradientCheckOptions = {},
): GradientCheckResult {
  const { task } = model.spec;
  const loss = options.loss ?? defaultLoss(model.spec.output, task);
  checkLoss(model.spec.output, loss, task);
  const samples = options.samplesPerTensor ?? 40;
  const h = options.step ?? 1e-5;
  const threshold = options.threshold ?? 1e-3;
  const inputs = model.inputs;
  const floatTargets = hasFloatTargets(task);
  if (floatTargets !== targets instanceof Float32Array)
    throw new InvalidOptionError('targets', `a ${task} model needs ${floatTargets ? 'float target rows (Float32Array)' : 'class labels (Int32Array)'}`);
  const perRow = floatTargets ? model.outputs : 1;
  if (x.length < rows * inputs) throw new InvalidOptionError('x', `x has ${x.length} values but ${rows} rows of ${inputs} need ${rows * inputs}`);
  if (targets.length < rows * perRow) throw new InvalidOptionError('targets', `targets has ${targets.length} values but ${rows} rows need ${rows * perRow}`);

  const grads = new Float32Array(model.layout.paramCount);
  const net = new Network(model, rows, grads, { buffers: model.buffers.slice() });
  const y = targets.slice(0, rows * perRow);
  net.input.set(x.subarray(0, rows * inputs));
  net.y.set(y);
  net.forward(rows, 'train');
  net.backward(rows, 1 / rows);

  const x64 = Float64Array.from(x.subarray(0, rows * inputs));
  const p = Float64Array.from(model.params);
  const lossAt = () => referenceLoss(model.spec, p, model.buffers, x64, y, rows, loss, 'train');
  const rng = new Random(options.seed ?? 1);

  const numeric = model.layout.params.map((t) => {
    const indices = t.size <= samples ? Array.from({ length: t.size }, (_, i) => i) : Array.from({ length: samples }, () => rng.int(t.size));
    const values = indices.map((i) => {
      const k = t.offset + i;
      const saved = p[k];
      p[k] = saved + h;
      const up = lossAt();
      p[k] = saved - h;
      const down = lossAt();
      p[k] = saved;
      return (up - down) / (2 * h);
    });
    return { indices, values, scale: Math.max(...values.map((v) => Math.abs(v))) };
  });
  // Gradients that are zero in exact arithmetic (a bias followed by BatchNorm) are float32 noise on
  // the analytic side: judge each value against its tensor's and the whole network's gradient scale.
  const globalScale = Math.max(...numeric.map((n) => n.scale));
  const tensors = model.layout.params.map((t, ti): TensorCheck => {
    const { indices, values, scale } = numeric[ti];
    const floor = Math.max(scale * 1e-2, globalScale * 1e-3, 1e-12);
    let worst = { index: indices[0], analytic: 0, numeric: 0 };
    let maxRelativeError = 0;
    indices.forEach((i, j) => {
      const a = grads[t.offset + i];
      const n = values[j];
      const err = Math.abs(a - n) / Math.max(Math.abs(a), Math.abs(n), floor);
      if (err >= maxRelativeError) {
        maxRelativeError = err;
        worst = { index: i, analytic: a, numeric: n };
      }
    });
    return { name: t.name, checked: indices.length, maxRelativeError, worst };
  });
  const maxRelativeError = Math.max(...tensors.map((t) => t.maxRelativeError));
  return { tensors, maxRelativeError, threshold, passed: maxRelativeError <= threshold };
}
