// Single-precision matrix product, row-major (BLAS sgemm semantics plus a fused bias):
//   C = alpha·op(A)·op(B) + beta·C + 1·biasᵀ
// op(A) is m×k (A is stored k×m, leading dimension lda, when transA), op(B) is k×n (B is stored
// n×k when transB), C is m×n with leading dimension ldc, and bias (length n, may be null) is added
// to every row. As in BLAS, beta == 0 leaves C unread (it may hold NaN) and alpha == 0 or k == 0
// leaves A and B unread. C must not overlap A, B or bias.
//
// Single-threaded: parallel callers run it on separate threads, each with its own packing buffers.
// The micro-kernel is the one activeMicroKernel() (cpu.h) picks.
#pragma once

#include <cstdint>

namespace fcnn {

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc, const float* bias = nullptr);

}  // namespace fcnn
