#include "kernels/reductions.h"

#include <cstdint>
#include <cstring>

namespace fcnn::kernels {

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

// With the sign bit cleared, IEEE-754 bit patterns read as integers are ordered like the values,
// +Inf above every finite value and every NaN above +Inf. So one integer max gives exactly the
// contract (NaN if any NaN, else Inf if any infinity, else max |x|), and integer max reductions
// vectorize without -ffast-math.
float maxAbs(const float* __restrict x, size_t n) {
  int32_t top = 0;
  for (size_t i = 0; i < n; i++) {
    int32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    bits &= 0x7fffffff;
    top = bits > top ? bits : top;
  }
  float result;
  std::memcpy(&result, &top, sizeof result);
  return result;
}

double sumSquares(const float* __restrict x, size_t n) {
  return sumLanes(n, [&](size_t i) { return double(x[i]) * double(x[i]); });
}

void scale(float* __restrict x, size_t n, float s) {
  for (size_t i = 0; i < n; i++) x[i] *= s;
}

}  // namespace fcnn::kernels
