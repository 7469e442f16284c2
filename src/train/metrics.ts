// The metrics of each task, kept as sums over the evaluated rows (so that chunks and workers add
// them up in any grouping) and turned into numbers at the end: accuracy for classes; MSE, MAE and
// R² for regression, in the targets' own units; per-label accuracy and F1 for multi-label.
import type { Task } from '../nn/spec.js';

export interface TaskMetrics {
  /** Classification: fraction of samples whose arg-max is their class; multi-label: mean per-label accuracy. */
  accuracy: number | null;
  /** Regression, averaged over the outputs, in the targets' units. */
  mse: number | null;
  mae: number | null;
  /** Regression: 1 − SSE/SST per output, averaged over the outputs. */
  r2: number | null;
  /** Multi-label: F1 per label, averaged over the labels that occur or are predicted (macro F1). */
  f1: number | null;
  /** Multi-label: accuracy and F1 of each label (F1 NaN for a label neither present nor predicted). */
  perLabel: { accuracy: number; f1: number }[] | null;
}

/** Sums kept per output: regression Σt, Σt², Σ(p − t)², Σ|p − t|; multi-label TP, FP, FN, right. */
const SUMS = 4;

/** Length of the sums vector of a task with `outputs` outputs. */
export function metricSlots(task: Task, outputs: number): number {
  return task === 'classification' ? 0 : SUMS * outputs;
}

/** Adds rows × cols outputs against their float targets to `sums` (nothing for classification). */
export function accumulateMetrics(task: Task, out: Float32Array, targets: Float32Array, rows: number, cols: number, sums: Float64Array): void {
  if (task === 'classification') return;
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < cols; j++) {
      const p = out[r * cols + j];
      const t = targets[r * cols + j];
      const at = SUMS * j;
      if (task === 'regression') {
        const e = p - t;
        sums[at] += t;
        sums[at + 1] += t * t;
        sums[at + 2] += e * e;
        sums[at + 3] += Math.abs(e);
      } else {
        const predicted = p >= 0.5;
        const actual = t >= 0.5;
        if (predicted && actual) sums[at]++;
        else if (predicted) sums[at + 1]++;
        else if (actual) sums[at + 2]++;
        if (predicted === actual) sums[at + 3]++;
      }
    }
}

/**
 * The task's metrics over `count` samples. `correct` is the count the network reports (classification);
 * `targetStd` the per-output standard deviation the regression targets were divided by (null: 1),
 * which MSE and MAE are scaled back by (R² does not depend on it).
 */
export function summarizeMetrics(
  task: Task,
  sums: Float64Array,
  count: number,
  correct: number,
  outputs: number,
  targetStd: ArrayLike<number> | null,
): TaskMetrics {
  const none: TaskMetrics = { accuracy: null, mse: null, mae: null, r2: null, f1: null, perLabel: null };
  if (count === 0) return none;
  if (task === 'classification') return { ...none, accuracy: correct / count };
  if (task === 'regression') {
    let mse = 0;
    let mae = 0;
    let r2 = 0;
    for (let j = 0; j < outputs; j++) {
      const [st, stt, see, sae] = sums.subarray(SUMS * j, SUMS * j + SUMS);
      const std = targetStd ? targetStd[j] : 1;
      const sst = stt - (st * st) / count;
      mse += (see / count) * std * std;
      mae += (sae / count) * std;
      r2 += sst > 0 ? 1 - see / sst : see === 0 ? 1 : -Infinity;
    }
    return { ...none, mse: mse / outputs, mae: mae / outputs, r2: r2 / outputs };
  }
  const perLabel = Array.from({ length: outputs }, (_, j) => {
    const [tp, fp, fn, right] = sums.subarray(SUMS * j, SUMS * j + SUMS);
    return { accuracy: right / count, f1: tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : NaN };
  });
  const scored = perLabel.filter((l) => !Number.isNaN(l.f1));
  return {
    ...none,
    accuracy: perLabel.reduce((a, l) => a + l.accuracy, 0) / outputs,
    f1: scored.length ? scored.reduce((a, l) => a + l.f1, 0) / scored.length : NaN,
    perLabel,
  };
}
