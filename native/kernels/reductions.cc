#include "kernels/reductions.h"

#include <cmath>

namespace fcnn::kernels {

namespace {

// Reduces x[0, n) with kLanes independent accumulators, each updated in index order, so that the
// loop vectorizes without reassociating one long sum; the lanes are combined at the end.
template <typename T, typename Step, typename Combine>
T reduceLanes(const float* __restrict x, size_t n, T init, Step step, Combine combine) {
  constexpr size_t kLanes = 16;
  T lane[kLanes];
  for (size_t k = 0; k < kLanes; k++) lane[k] = init;
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t k = 0; k < kLanes; k++) lane[k] = step(lane[k], x[i + k]);
  for (size_t k = 0; i < n; i++, k++) lane[k] = step(lane[k], x[i]);
  T total = lane[0];
  for (size_t k = 1; k < kLanes; k++) total = combine(total, lane[k]);
  return total;
}

// The larger of a and m, where a NaN on either side wins and stays.
inline float maxOrNaN(float m, float a) { return a > m || std::isnan(a) ? a : m; }

}  // namespace

void columnSums(const float* __restrict x, size_t rows, size_t cols, float* __restrict out, float beta) {
  sumColumns(
      rows, 0, cols, [&](size_t r, size_t j) { return double(x[r * cols + j]); },
      [&](size_t j, double sum) { out[j] = beta == 0.0f ? float(sum) : float(double(beta) * out[j] + sum); });
}

void sumSlots(const float* __restrict slots, size_t count, size_t stride, size_t begin, size_t end,
              float* __restrict out) {
  sumColumns(
      count, begin, end, [&](size_t s, size_t i) { return double(slots[s * stride + i]); },
      [&](size_t i, double sum) { out[i] = float(sum); });
}

float maxAbs(const float* __restrict x, size_t n) {
  return reduceLanes(
      x, n, 0.0f, [](float m, float v) { return maxOrNaN(m, std::fabs(v)); }, maxOrNaN);
}

double sumSquares(const float* __restrict x, size_t n) {
  return reduceLanes(
      x, n, 0.0, [](double s, float v) { return s + double(v) * double(v); },
      [](double a, double b) { return a + b; });
}

void scale(float* __restrict x, size_t n, float s) {
  for (size_t i = 0; i < n; i++) x[i] *= s;
}

}  // namespace fcnn::kernels
