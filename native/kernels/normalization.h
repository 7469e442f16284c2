// LayerNorm (over each row) and BatchNorm (over each column) of a rows × cols matrix, forward and
// backward. Statistics are computed in double, the variance in two passes (no E[x²] − E[x]²
// cancellation); the normalization uses the biased variance, as PyTorch does.
#pragma once

#include <cstddef>

namespace fcnn::kernels {

// y = (x − mean)·rstd·gamma + beta per row, rstd = 1/√(var + eps); saves mean and rstd (length rows).
// cols ≥ 1.
void layerNormForward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                      size_t rows, size_t cols, double eps);
// dx from the saved statistics; dgamma = Σ_rows dy·x̂ and dbeta = Σ_rows dy are overwritten.
void layerNormBackward(const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy,
                       float* dx, float* dgamma, float* dbeta, size_t rows, size_t cols);

// The same per column. Training (rows ≥ 2): batch statistics, saved in mean/rstd (length cols), and
// running = (1 − momentum)·running + momentum·batch, with the unbiased variance for runningVar.
// Evaluation: mean = runningMean and rstd = 1/√(runningVar + eps) are written to mean/rstd and
// used; the running statistics are left unchanged.
void batchNormForward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                      float* runningMean, float* runningVar, size_t rows, size_t cols, double eps, double momentum,
                      bool training);
// dx for training-mode statistics; dgamma and dbeta are overwritten.
void batchNormBackward(const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy,
                       float* dx, float* dgamma, float* dbeta, size_t rows, size_t cols);

}  // namespace fcnn::kernels
