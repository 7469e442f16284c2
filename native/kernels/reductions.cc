#include "kernels/reductions.h"

#include <cstdint>
#include <cstring>

#include "kernels/clones.h"

namespace fcnn::kernels {

namespace {

// With the sign bit cleared, IEEE-754 bit patterns read as integers are ordered like the values,
// +Inf above every finite value and every NaN above +Inf. So one integer max gives exactly the
// maxAbs contract (NaN if any NaN, else Inf if any infinity, else max |x|), and integer max
// reductions vectorize without -ffast-math.
inline int32_t absBits(float x) {
  int32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits & 0x7fffffff;
}

inline float fromBits(int32_t bits) {
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

}  // namespace

void columnSums(const float* __restrict x, size_t rows, size_t cols, float* __restrict out, float beta) {
  sumColumns(
      rows, 0, cols, [&](size_t r, size_t j) { return double(x[r * cols + j]); },
      [&](size_t j, double sum) { out[j] = beta == 0.0f ? float(sum) : float(double(beta) * out[j] + sum); });
}

// Integer max needs SSE4.1 (pmaxsd): on the SSE2 baseline these memory-bound checks would run at
// half the speed of memory.
FCNN_WIDE_CLONES
float reduceSlots(float* slots, size_t count, size_t stride, size_t begin, size_t end) {
  // Float sums: each element's sum still runs in slot order, so the result does not depend on how
  // workers split the range, and with 2 slots it equals the exactly rounded sum (summing in double
  // made this memory-bound pass compute-bound). The last slot's add, the store and the check are
  // one pass; with more slots, blocks keep the partial sums in L1 in between.
  constexpr size_t kBlock = 2048;
  float* __restrict out = slots;
  const float* __restrict last = slots + (count - 1) * stride;
  int32_t top = 0;
  for (size_t j0 = begin; j0 < end; j0 += kBlock) {
    const size_t j1 = std::min(end, j0 + kBlock);
    for (size_t s = 1; s + 1 < count; s++) {
      const float* __restrict x = slots + s * stride;
      for (size_t i = j0; i < j1; i++) out[i] += x[i];
    }
    if (count == 1) {
      for (size_t i = j0; i < j1; i++) top = std::max(top, absBits(out[i]));
    } else {
      for (size_t i = j0; i < j1; i++) {
        const float sum = out[i] + last[i];
        out[i] = sum;
        top = std::max(top, absBits(sum));
      }
    }
  }
  return fromBits(top);
}

FCNN_WIDE_CLONES
float maxAbs(const float* __restrict x, size_t n) {
  int32_t top = 0;
  for (size_t i = 0; i < n; i++) top = std::max(top, absBits(x[i]));
  return fromBits(top);
}

double sumSquares(const float* __restrict x, size_t n) {
  return sumLanes(n, [&](size_t i) { return double(x[i]) * double(x[i]); });
}

void scale(float* __restrict x, size_t n, float s) {
  for (size_t i = 0; i < n; i++) x[i] *= s;
}

}  // namespace fcnn::kernels
