// Sums and norms over arrays and matrix columns, accumulated in double.
#pragma once

#include <algorithm>
#include <cstddef>

namespace fcnn::kernels {

// For each column j in [begin, end): store(j, Σ_{r < rows} term(r, j)), the sum taken in double in
// row order. Columns go in blocks of accumulators small enough for L1, so each row segment is
// read contiguously and the adds vectorize across columns: each lane is its own in-order sum, which
// -O3 may vectorize without -ffast-math, and the result does not depend on how callers split
// [begin, end) among threads.
template <typename Term, typename Store>
inline void sumColumns(size_t rows, size_t begin, size_t end, Term term, Store store) {
  constexpr size_t kBlock = 64;
  double sum[kBlock];
  for (size_t j0 = begin; j0 < end; j0 += kBlock) {
    size_t width = std::min(kBlock, end - j0);
    for (size_t k = 0; k < width; k++) sum[k] = 0;
    for (size_t r = 0; r < rows; r++)
      for (size_t k = 0; k < width; k++) sum[k] += term(r, j0 + k);
    for (size_t k = 0; k < width; k++) store(j0 + k, sum[k]);
  }
}

// Σ_{i < n} term(i) in double, as kLanes partial sums (lane i mod kLanes, each in index order) added
// at the end: the loop then vectorizes without reassociating one long sum, which GCC does not do
// for floating point without -ffast-math, and the result is the same on every run.
template <typename Term>
inline double sumLanes(size_t n, Term term) {
  constexpr size_t kLanes = 16;
  double lane[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t k = 0; k < kLanes; k++) lane[k] += term(i + k);
  for (size_t k = 0; i < n; i++, k++) lane[k] += term(i);
  double total = 0;
  for (size_t k = 0; k < kLanes; k++) total += lane[k];
  return total;
}

// out[j] = beta·out[j] + Σ_r x[r·cols + j]; beta = 0 overwrites out without reading it (as in BLAS).
void columnSums(const float* x, size_t rows, size_t cols, float* out, float beta);

// slots[i] = Σ_{s < count} slots[s·stride + i] for begin ≤ i < end, count ≥ 1: slot 0 receives the
// sum, taken in slot order, in place (a separate output would cost this memory-bound pass a third
// more traffic). Returns max |sum| as maxAbs does, so that the same pass checks it is finite.
float reduceSlots(float* slots, size_t count, size_t stride, size_t begin, size_t end);

// max |x[i]|; NaN when any x[i] is NaN, else +Inf when any is infinite; 0 when n = 0.
float maxAbs(const float* x, size_t n);

// Σ x[i]² in double.
double sumSquares(const float* x, size_t n);

// x[i] *= s.
void scale(float* x, size_t n, float s);

}  // namespace fcnn::kernels
