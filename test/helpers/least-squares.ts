// The baseline a regression is measured against: ordinary least squares with an intercept.

/** Ordinary least squares with an intercept on (x, y), by the normal equations in float64: predictions on xTest. */
export function leastSquares(x: ArrayLike<number>, y: ArrayLike<number>, width: number, xTest: ArrayLike<number>): Float64Array {
  const n = y.length;
  const k = width + 1;
  const a = Array.from({ length: k }, () => new Float64Array(k + 1));
  for (let r = 0; r < n; r++) {
    const row = [1, ...Array.from({ length: width }, (_, j) => x[r * width + j])];
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) a[i][j] += row[i] * row[j];
      a[i][k] += row[i] * y[r];
    }
  }
  for (let c = 0; c < k; c++) {
    let pivot = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) pivot = r;
    [a[c], a[pivot]] = [a[pivot], a[c]];
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let j = c; j <= k; j++) a[r][j] -= f * a[c][j];
    }
  }
  const beta = a.map((row, i) => row[k] / row[i]);
  const m = xTest.length / width;
  return Float64Array.from({ length: m }, (_, r) => beta.reduce((s, b, i) => s + b * (i === 0 ? 1 : xTest[r * width + i - 1]), 0));
}
