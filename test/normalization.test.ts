import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import { type NormInput, batchNormTraining, layerNorm } from '../src/nn/reference.js';
import { Rng, SHAPES, columnSums, expectClose, finiteDifferenceGradients } from './reference.js';

function input(rows: number, cols: number, seed: number, offset = 0): NormInput & { x: Float32Array; gamma: Float32Array; beta: Float32Array } {
  const rng = new Rng(seed);
  return {
    x: rng.floats(rows * cols, offset - 3, offset + 3),
    gamma: rng.floats(cols, 0.5, 1.5),
    beta: rng.floats(cols, -0.5, 0.5),
    rows,
    cols,
    eps: 1e-5,
  };
}

function layerNormForward({ x, gamma, beta, rows, cols, eps }: ReturnType<typeof input>) {
  const y = new Float32Array(rows * cols),
    mean = new Float32Array(rows),
    rstd = new Float32Array(rows);
  native.layerNormForward(x, gamma, beta, y, mean, rstd, rows, cols, eps);
  return { y, mean, rstd };
}

function batchNormForward(
  { x, gamma, beta, rows, cols, eps }: ReturnType<typeof input>,
  runningMean: Float32Array,
  runningVar: Float32Array,
  momentum: number,
  training: boolean,
) {
  const y = new Float32Array(rows * cols),
    mean = new Float32Array(cols),
    rstd = new Float32Array(cols);
  native.batchNormForward(x, gamma, beta, y, mean, rstd, runningMean, runningVar, rows, cols, eps, momentum, training);
  return { y, mean, rstd };
}

type Backward = typeof native.layerNormBackward;

function backward(fn: Backward, inp: ReturnType<typeof input>, saved: { mean: Float32Array; rstd: Float32Array }, dy: Float32Array) {
  const { x, gamma, rows, cols } = inp;
  const dx = new Float32Array(rows * cols),
    dgamma = new Float32Array(cols).fill(NaN),
    dbeta = new Float32Array(cols).fill(NaN);
  fn(x, gamma, saved.mean, saved.rstd, dy, dx, dgamma, dbeta, rows, cols);
  return { dx, dgamma, dbeta };
}

describe('layerNorm', () => {
  it.each(SHAPES)('forward matches the float64 reference, %i x %i', (rows, cols) => {
    const inp = input(rows, cols, rows * 31 + cols);
    const got = layerNormForward(inp),
      ref = layerNorm(inp);
    expectClose(got.mean, ref.mean, 1e-6, 1e-6);
    expectClose(got.rstd, ref.rstd, 1e-5);
    expectClose(got.y, ref.y, 1e-5, 2e-5);
  });

  it.each([
    [1, 2],
    [3, 5],
    [4, 17],
  ])('backward matches finite differences of the float64 reference, %i x %i', (rows, cols) => {
    const inp = input(rows, cols, rows + cols * 7);
    const dy = new Rng(99).floats(rows * cols);
    const got = backward(native.layerNormBackward, inp, layerNormForward(inp), dy);
    const fd = finiteDifferenceGradients(layerNorm, inp, dy);
    expectClose(got.dx, fd.dx, 1e-4, 1e-5);
    expectClose(got.dgamma, fd.dgamma, 1e-4, 1e-5);
    expectClose(got.dbeta, fd.dbeta, 1e-4, 1e-5);
  });

  it.each(SHAPES)('backward on larger shapes agrees with the analytic float64 gradient, %i x %i', (rows, cols) => {
    // Checked at scale against the closed form the finite differences validated above.
    const inp = input(rows, cols, rows * 5 + cols);
    const dy = new Rng(7).floats(rows * cols);
    const got = backward(native.layerNormBackward, inp, layerNormForward(inp), dy);
    const { mean, rstd } = layerNorm(inp);
    const dx = new Float64Array(rows * cols),
      xhat = (r: number, j: number) => (inp.x[r * cols + j] - mean[r]) * rstd[r];
    for (let r = 0; r < rows; r++) {
      let sumG = 0,
        sumGX = 0;
      for (let j = 0; j < cols; j++) {
        sumG += dy[r * cols + j] * inp.gamma[j];
        sumGX += dy[r * cols + j] * inp.gamma[j] * xhat(r, j);
      }
      for (let j = 0; j < cols; j++) dx[r * cols + j] = rstd[r] * (dy[r * cols + j] * inp.gamma[j] - sumG / cols - xhat(r, j) * (sumGX / cols));
    }
    const dgamma = columnSums(
      Array.from(dy, (d, i) => d * xhat(Math.floor(i / cols), i % cols)),
      rows,
      cols,
    );
    expectClose(got.dx, dx, 1e-4, 1e-5);
    expectClose(got.dgamma, dgamma, 1e-5, 1e-5);
    expectClose(got.dbeta, columnSums(dy, rows, cols), 1e-6, 1e-6);
  });

  it('keeps the variance accurate for values far from zero', () => {
    // Spread 3 around 1e4: E[x²] − E[x]² taken in float would lose every digit here.
    const inp = input(4, 64, 5, 1e4);
    const got = layerNormForward(inp),
      ref = layerNorm(inp);
    expectClose(got.rstd, ref.rstd, 1e-5);
  });
});

describe('batchNorm', () => {
  it.each(SHAPES.filter(([rows]) => rows >= 2))('training forward and running statistics match the reference, %i x %i', (rows, cols) => {
    const inp = input(rows, cols, rows * 3 + cols * 11);
    const rng = new Rng(5);
    const runningMean = rng.floats(cols),
      runningVar = rng.floats(cols, 0.5, 2);
    const before = { mean: Float64Array.from(runningMean), variance: Float64Array.from(runningVar) };
    const momentum = 0.1;
    const got = batchNormForward(inp, runningMean, runningVar, momentum, true);
    const ref = batchNormTraining(inp);
    expectClose(got.mean, ref.mean, 1e-6, 1e-6);
    expectClose(got.rstd, ref.rstd, 1e-5);
    expectClose(got.y, ref.y, 1e-5, 2e-5);
    expectClose(
      runningMean,
      before.mean.map((m, j) => (1 - momentum) * m + momentum * ref.mean[j]),
      1e-6,
      1e-6,
    );
    expectClose(
      runningVar,
      before.variance.map((v, j) => (1 - momentum) * v + momentum * ref.unbiasedVar[j]),
      1e-5,
    );
  });

  it('running statistics converge to the batch mean and unbiased variance over repeated steps', () => {
    const inp = input(6, 3, 12);
    const runningMean = new Float32Array(3),
      runningVar = new Float32Array(3).fill(1);
    for (let step = 0; step < 200; step++) batchNormForward(inp, runningMean, runningVar, 0.1, true);
    const ref = batchNormTraining(inp);
    expectClose(runningMean, ref.mean, 1e-5, 1e-6);
    expectClose(runningVar, ref.unbiasedVar, 1e-5);
  });

  it('evaluation normalizes with the running statistics and leaves them unchanged', () => {
    const inp = input(5, 9, 77);
    const rng = new Rng(8);
    const runningMean = rng.floats(9),
      runningVar = rng.floats(9, 0.5, 2);
    const copy = { mean: runningMean.slice(), variance: runningVar.slice() };
    const got = batchNormForward(inp, runningMean, runningVar, 0.1, false);
    expect(runningMean).toEqual(copy.mean);
    expect(runningVar).toEqual(copy.variance);
    const expected = Array.from(inp.x, (v, i) => {
      const j = i % 9;
      return ((v - runningMean[j]) / Math.sqrt(runningVar[j] + inp.eps)) * inp.gamma[j] + inp.beta[j];
    });
    expectClose(got.y, expected, 1e-5, 2e-5);
    expect(got.mean).toEqual(runningMean);
    expectClose(
      got.rstd,
      Array.from(runningVar, (v) => 1 / Math.sqrt(v + inp.eps)),
      1e-6,
    );
  });

  it('a constant column normalizes to beta (rstd = 1/√eps), not NaN', () => {
    const inp = { ...input(4, 2, 1), x: Float32Array.of(3, 1, 3, 2, 3, 3, 3, 4) };
    const got = batchNormForward(inp, new Float32Array(2), new Float32Array(2), 0.1, true);
    expectClose([got.rstd[0]], [1 / Math.sqrt(inp.eps)], 1e-6);
    expectClose(
      [0, 2, 4, 6].map((i) => got.y[i]),
      [0, 0, 0, 0].map(() => inp.beta[0]),
      1e-7,
    );
  });

  it.each([
    [2, 1],
    [3, 4],
    [6, 5],
  ])('backward matches finite differences of the float64 reference, %i x %i', (rows, cols) => {
    const inp = input(rows, cols, rows * 13 + cols);
    const dy = new Rng(4).floats(rows * cols);
    const saved = batchNormForward(inp, new Float32Array(cols), new Float32Array(cols), 0.1, true);
    const got = backward(native.batchNormBackward, inp, saved, dy);
    const fd = finiteDifferenceGradients(batchNormTraining, inp, dy);
    expectClose(got.dx, fd.dx, 1e-4, 1e-5);
    expectClose(got.dgamma, fd.dgamma, 1e-4, 1e-5);
    expectClose(got.dbeta, fd.dbeta, 1e-4, 1e-5);
  });

  it.each(SHAPES.filter(([rows]) => rows >= 2))('backward on larger shapes agrees with the analytic float64 gradient, %i x %i', (rows, cols) => {
    const inp = input(rows, cols, rows + 3 * cols);
    const dy = new Rng(6).floats(rows * cols);
    const saved = batchNormForward(inp, new Float32Array(cols), new Float32Array(cols), 0.1, true);
    const got = backward(native.batchNormBackward, inp, saved, dy);
    const { mean, rstd } = batchNormTraining(inp);
    const xhat = Array.from(inp.x, (v, i) => (v - mean[i % cols]) * rstd[i % cols]);
    const dbeta = columnSums(dy, rows, cols),
      dgamma = columnSums(
        Array.from(dy, (d, i) => d * xhat[i]),
        rows,
        cols,
      );
    const dx = Array.from(dy, (d, i) => {
      const j = i % cols;
      return rstd[j] * inp.gamma[j] * (d - dbeta[j] / rows - (xhat[i] * dgamma[j]) / rows);
    });
    expectClose(got.dx, dx, 1e-4, 1e-5);
    expectClose(got.dgamma, dgamma, 1e-5, 1e-5);
    expectClose(got.dbeta, dbeta, 1e-6, 1e-6);
  });
});
