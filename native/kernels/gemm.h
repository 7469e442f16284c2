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

// op(B) packed once for many products, as a layer's weights are between two optimizer updates:
// the micro-panels sgemm would pack on every call, all of them, kept in packedBSize(n, k) floats.
// sgemmPackedB then computes exactly what sgemm computes (the same blocks, the same sums).
int64_t packedBSize(int64_t n, int64_t k);
// Lane ranges given to packB start on a multiple of this (the micro-kernel's nr).
int64_t packedBAlignment();
// Packs lanes (columns of op(B)) [lane0, lane1) at depths (rows of op(B)) [depth0, depth1), so
// that threads can each pack the part of B they own: lane0 is a multiple of packedBAlignment(),
// and so is lane1 unless it is n (the range that ends at n writes the last panel's zero padding).
// The stores go past the caches when the packed B is larger than L2, or when `stream` asks for it:
// a part packed by one core and read by others is written to memory without fetching each line
// from the caches of the cores that read it last (the values are the same either way).
void packB(bool transB, int64_t n, int64_t k, const float* b, int64_t ldb, int64_t lane0, int64_t lane1, int64_t depth0,
           int64_t depth1, float* packed, bool stream = false);
void sgemmPackedB(bool transA, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                  const float* packed, float beta, float* c, int64_t ldc, const float* bias = nullptr);

// The bf16 GEMM: the same product, with op(A) and op(B) rounded to bf16 (round to nearest even,
// ukr/bf16.h) as they are packed and their products summed in fp32; alpha, beta, the bias and C
// stay fp32. The same arguments as sgemm, and a packed op(B) in bf16 elements. The depth ranges
// given to packBBf16 start on an even depth and end on one, or at k (a pair is packed whole).
void gemmBf16(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
              const float* b, int64_t ldb, float beta, float* c, int64_t ldc, const float* bias = nullptr);
int64_t packedBSizeBf16(int64_t n, int64_t k);
int64_t packedBAlignmentBf16();
void packBBf16(bool transB, int64_t n, int64_t k, const float* b, int64_t ldb, int64_t lane0, int64_t lane1,
               int64_t depth0, int64_t depth1, uint16_t* packed, bool stream = false);
void gemmBf16PackedB(bool transA, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                     const uint16_t* packed, float beta, float* c, int64_t ldc, const float* bias = nullptr);

}  // namespace fcnn
