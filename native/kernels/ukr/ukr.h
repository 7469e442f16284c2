// The micro-kernel interface of the SGEMM framework (BLIS): the only per-ISA code is a tiny kernel
// that multiplies one packed MR×k micro-panel of A by one packed k×NR micro-panel of B into an
// MR×NR tile of C held in registers, and the packing routines that make those micro-panels
// (pack.h). Everything around them (blocking, the loops, edge tiles) is in gemm.cc and is the
// same for every ISA.
//
// Every ISA instantiates the same templates with its own vector traits, so the AVX-512 kernel,
// which cannot run on every machine that builds and tests this code, is the AVX2 and portable
// code with a wider register.
#pragma once

#include <cstdint>

#include "kernels/ukr/pack.h"

namespace fcnn::ukr {

// c[i·ldc + j] = alpha·Σ_p a[p·mr + i]·b[p·nr + j] + beta·c[i·ldc + j] + bias[j], for i < mr,
// j < nr, p < kc. a and b are packed micro-panels, 64-byte aligned; c is any row-major tile.
// beta == 0 leaves c unread (it may hold NaN); bias may be null.
using KernelFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                          float alpha, float beta, const float* bias);

// Packs `lanes` lanes × `depth` of a matrix whose lane l at depth p is src[l·laneStride +
// p·depthStride] (one of the strides is 1) into ceil(lanes / width) micro-panels of depth × width
// floats, lane fastest, the missing lanes of the last one zero, panel i at dst + i·panelStride.
// width is mr for A, nr for B.
using PackFn = void (*)(const float* src, int64_t laneStride, int64_t depthStride, int64_t lanes, int64_t depth,
                        float* dst, int64_t panelStride);

// `iterations` rounds of independent FMA chains, as many as the kernel's accumulators, with no
// memory traffic: the throughput ceiling of the kernel. Returns a value that depends on every chain.
using FmaLoopFn = float (*)(int64_t iterations, float x);

// Upper bounds of mr and nr over all kernels, for the framework's stack tiles.
constexpr int kMaxMr = 12;
constexpr int kMaxNr = 32;

struct MicroKernel {
  const char* isa;  // "avx512", "avx2" or "portable"
  int mr, nr;
  // forRows[r - 1] computes the first r rows of the tile (r ≤ mr; null beyond), from the same
  // mr-wide A micro-panels; forRows[mr - 1] is the kernel. The last row panel of a product whose m
  // is not a multiple of mr (64 or 128 rows with mr = 6) then costs r/mr of a tile, not a whole one.
  KernelFn forRows[kMaxMr];
  PackFn packA, packB;
  PackFn packBStreaming;  // packB with streaming stores (pack.h), for a packed B too large to stay in the caches
  FmaLoopFn fmaLoop;
  int fmaLoopFlops;  // floating-point operations per iteration of fmaLoop
};

// One accessor per ISA, each defined in its own translation unit compiled with that ISA's flags.
const MicroKernel& portable();
#if FCNN_X86
const MicroKernel& avx2();
const MicroKernel& avx512();
#endif

// The shared template. It lives in an unnamed namespace so that every ukr/*.cc gets its own copy
// compiled with its own flags: an inline function with external linkage would be emitted by each
// of them, and the linker could keep an AVX-512 copy for the code that runs on every CPU. For the
// same reason nothing here calls into std templates (std::min and friends).
//
// V is a vector-traits struct: reg, width, zero(), load() (aligned), loadu(), storeu(),
// broadcast(const float*), set1(), fma(a, b, c) = a·b + c, mul(), add().
namespace {

// MR rows of C; the A micro-panels are AS floats wide (AS = MR but for the row kernels).
template <class V, int MR, int NV, int AS = MR>
void microKernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c,
                 int64_t ldc, float alpha, float beta, const float* __restrict bias) {
  constexpr int W = V::width;
  constexpr int NR = NV * W;
  typename V::reg acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) acc[i][v] = V::zero();

  // The tile of C is needed only after the loop: start bringing it in now.
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
    __builtin_prefetch(c + i * ldc, 1);
    __builtin_prefetch(c + i * ldc + NR - 1, 1);
  }

#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; p++) {
    typename V::reg bp[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) bp[v] = V::load(b + v * W);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      typename V::reg ai = V::broadcast(a + i);
#pragma GCC unroll 8
      for (int v = 0; v < NV; v++) acc[i][v] = V::fma(ai, bp[v], acc[i][v]);
    }
    a += AS;
    b += NR;
  }

  const typename V::reg alphaV = V::set1(alpha), betaV = V::set1(beta);
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) {
      float* ci = c + i * ldc + v * W;
      typename V::reg r = V::mul(alphaV, acc[i][v]);
      if (beta != 0) r = V::fma(betaV, V::loadu(ci), r);
      if (bias) r = V::add(r, V::loadu(bias + v * W));
      V::storeu(ci, r);
    }
  }
}

template <class V, int MR, int NV>
float fmaLoop(int64_t iterations, float x) {
  typename V::reg acc[MR][NV];
  const typename V::reg scale = V::set1(x), shift = V::set1(1.0f - x);
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) acc[i][v] = V::set1(float(i * NV + v));
  // acc·x + (1 − x) stays bounded (it converges to 1), so no chain overflows or goes subnormal.
  for (int64_t it = 0; it < iterations; it++) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 8
      for (int v = 0; v < NV; v++) acc[i][v] = V::fma(acc[i][v], scale, shift);
  }
  typename V::reg sum = V::zero();
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) sum = V::add(sum, acc[i][v]);
  float lanes[V::width];
  V::storeu(lanes, sum);
  return lanes[0];
}

// The kernel for the first `rows` rows of an MR-row tile, or null when rows > MR.
template <class V, int MR, int NV, int R = MR>
constexpr KernelFn rowKernel(int rows) {
  if (rows > R) return nullptr;
  if constexpr (R > 1)
    if (rows < R) return rowKernel<V, MR, NV, R - 1>(rows);
  return &microKernel<V, R, NV, MR>;
}

// The MicroKernel of traits V with an MR×(NV·width) tile, packing with traits P; its FMA loop has
// as many chains as the tile has accumulators.
template <class V, class P, int MR, int NV>
constexpr MicroKernel makeMicroKernel(const char* isa) {
  static_assert(MR <= kMaxMr && NV * V::width <= kMaxNr, "raise kMaxMr or kMaxNr");
  static_assert(kMaxMr == 12, "list one rowKernel per row count below");
  return MicroKernel{isa,
                     MR,
                     NV * V::width,
                     {rowKernel<V, MR, NV>(1), rowKernel<V, MR, NV>(2), rowKernel<V, MR, NV>(3), rowKernel<V, MR, NV>(4),
                      rowKernel<V, MR, NV>(5), rowKernel<V, MR, NV>(6), rowKernel<V, MR, NV>(7), rowKernel<V, MR, NV>(8),
                      rowKernel<V, MR, NV>(9), rowKernel<V, MR, NV>(10), rowKernel<V, MR, NV>(11), rowKernel<V, MR, NV>(12)},
                     &packPanels<P, MR>,
                     &packPanels<P, NV * V::width>,
                     &packPanels<P, NV * V::width, true>,
                     &fmaLoop<V, MR, NV>,
                     2 * MR * NV * V::width};
}

}  // namespace
}  // namespace fcnn::ukr
