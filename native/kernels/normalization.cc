#include "kernels/normalization.h"

#include <cmath>

#include "kernels/reductions.h"

namespace fcnn::kernels {

// Both norms compute x̂ = (x − mean)·rstd from the float statistics they save, so that the
// backward pass sees exactly the x̂ the forward pass used.

void layerNormForward(const float* __restrict x, const float* __restrict gamma, const float* __restrict beta,
                      float* __restrict y, float* __restrict mean, float* __restrict rstd, size_t rows, size_t cols,
                      double eps) {
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;
    double mu = sumLanes(cols, [&](size_t j) { return double(xr[j]); }) / double(cols);
    double squares = sumLanes(cols, [&](size_t j) { return (xr[j] - mu) * (xr[j] - mu); });
    float m = float(mu), s = float(1.0 / std::sqrt(squares / double(cols) + eps));
    mean[r] = m;
    rstd[r] = s;
    float* yr = y + r * cols;
    for (size_t j = 0; j < cols; j++) yr[j] = (xr[j] - m) * s * gamma[j] + beta[j];
  }
}

// With g = dy·gamma: dx = rstd·(g − mean_j(g) − x̂·mean_j(g·x̂)), the gradient through x̂ of a
// row whose mean and variance also depend on x.
void layerNormBackward(const float* __restrict x, const float* __restrict gamma, const float* __restrict mean,
                       const float* __restrict rstd, const float* __restrict dy, float* __restrict dx,
                       float* __restrict dgamma, float* __restrict dbeta, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols, *dyr = dy + r * cols;
    float m = mean[r], s = rstd[r];
    double sumG = sumLanes(cols, [&](size_t j) { return double(dyr[j] * gamma[j]); });
    double sumGXhat = sumLanes(cols, [&](size_t j) { return double(dyr[j] * gamma[j]) * ((xr[j] - m) * s); });
    float meanG = float(sumG / double(cols)), meanGXhat = float(sumGXhat / double(cols));
    float* dxr = dx + r * cols;
    for (size_t j = 0; j < cols; j++) dxr[j] = s * (dyr[j] * gamma[j] - meanG - (xr[j] - m) * s * meanGXhat);
  }
  columnSums(dy, rows, cols, dbeta, 0.0f);
  sumColumns(
      rows, 0, cols,
      [&](size_t r, size_t j) { return double(dy[r * cols + j]) * ((x[r * cols + j] - mean[r]) * rstd[r]); },
      [&](size_t j, double sum) { dgamma[j] = float(sum); });
}

void batchNormForward(const float* __restrict x, const float* __restrict gamma, const float* __restrict beta,
                      float* __restrict y, float* __restrict mean, float* __restrict rstd,
                      float* __restrict runningMean, float* __restrict runningVar, size_t rows, size_t cols, double eps,
                      double momentum, bool training) {
  if (training) {
    double n = double(rows);
    sumColumns(
        rows, 0, cols, [&](size_t r, size_t j) { return double(x[r * cols + j]); },
        [&](size_t j, double sum) { mean[j] = float(sum / n); });
    sumColumns(
        rows, 0, cols,
        [&](size_t r, size_t j) {
          double d = double(x[r * cols + j]) - mean[j];
          return d * d;
        },
        [&](size_t j, double squares) {
          rstd[j] = float(1.0 / std::sqrt(squares / n + eps));
          runningMean[j] = float((1.0 - momentum) * runningMean[j] + momentum * mean[j]);
          runningVar[j] = float((1.0 - momentum) * runningVar[j] + momentum * (squares / (n - 1.0)));
        });
  } else {
    for (size_t j = 0; j < cols; j++) {
      mean[j] = runningMean[j];
      rstd[j] = float(1.0 / std::sqrt(double(runningVar[j]) + eps));
    }
  }
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    for (size_t j = 0; j < cols; j++) yr[j] = (xr[j] - mean[j]) * rstd[j] * gamma[j] + beta[j];
  }
}

// Per column, with N = rows: dx = rstd·gamma·(dy − dbeta/N − x̂·dgamma/N), the LayerNorm formula
// with the roles of rows and columns exchanged (mean_r(dy·gamma) = gamma·dbeta/N, and so on).
void batchNormBackward(const float* __restrict x, const float* __restrict gamma, const float* __restrict mean,
                       const float* __restrict rstd, const float* __restrict dy, float* __restrict dx,
                       float* __restrict dgamma, float* __restrict dbeta, size_t rows, size_t cols) {
  columnSums(dy, rows, cols, dbeta, 0.0f);
  sumColumns(
      rows, 0, cols,
      [&](size_t r, size_t j) { return double(dy[r * cols + j]) * ((x[r * cols + j] - mean[j]) * rstd[j]); },
      [&](size_t j, double sum) { dgamma[j] = float(sum); });
  if (rows == 0) return;
  float inverseN = float(1.0 / double(rows));
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols, *dyr = dy + r * cols;
    float* dxr = dx + r * cols;
    for (size_t j = 0; j < cols; j++) {
      float xhat = (xr[j] - mean[j]) * rstd[j];
      dxr[j] = rstd[j] * gamma[j] * (dyr[j] - dbeta[j] * inverseN - xhat * dgamma[j] * inverseN);
    }
  }
}

}  // namespace fcnn::kernels
