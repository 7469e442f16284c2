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

#include "kernels/ukr/bf16.h"
#include "kernels/ukr/pack.h"

namespace fcnn::ukr {

// c[i·ldc + j] = alpha·Σ_p a[p·mr + i]·b[p·nr + j] + beta·c[i·ldc + j] + bias[j], for i < mr,
// j < nr, p < kc. a and b are packed micro-panels, 64-byte aligned; c is any row-major tile.
// beta == 0 leaves c unread (it may hold NaN); bias may be null. E is the packed operands'
// element: float, or a bf16 bit pattern (bf16.h), for which kc counts pairs of depths.
template <class E>
using KernelOf = void (*)(int64_t kc, const E* a, const E* b, float* c, int64_t ldc, float alpha, float beta,
                          const float* bias);
using KernelFn = KernelOf<float>;

// Packs `lanes` lanes × `depth` of a matrix whose lane l at depth p is src[l·laneStride +
// p·depthStride] (one of the strides is 1) into ceil(lanes / width) micro-panels of depth × width
// floats, lane fastest, the missing lanes of the last one zero, panel i at dst + i·panelStride.
// width is mr for A, nr for B.
using PackFn = void (*)(const float* src, int64_t laneStride, int64_t depthStride, int64_t lanes, int64_t depth,
                        float* dst, int64_t panelStride);

// packFn's bf16 counterpart: the same lanes and depths, rounded to bf16 into bf16.h's layout
// (pairs of depths side by side); panelStride counts bf16 elements.
using PackBf16Fn = void (*)(const float* src, int64_t laneStride, int64_t depthStride, int64_t lanes, int64_t depth,
                            uint16_t* dst, int64_t panelStride);

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

// The bf16 GEMM's micro-kernel and packing (bf16.h): operands rounded to bf16 as they are packed,
// products summed in fp32.
struct Bf16Kernel {
  const char* name;  // "avx512bf16" (vdpbf16ps) or "emulated" (the same sums in fp32 arithmetic)
  int mr, nr;
  KernelOf<uint16_t> forRows[kMaxMr];  // as MicroKernel::forRows, kc counting pairs of depths
  PackBf16Fn packA, packB;
  PackBf16Fn packBStreaming;  // as MicroKernel::packBStreaming
};

// One accessor per ISA, each defined in its own translation unit compiled with that ISA's flags.
const MicroKernel& portable();
const Bf16Kernel& emulatedBf16();
#if FCNN_X86
const MicroKernel& avx2();
const MicroKernel& avx512();
const Bf16Kernel& avx512bf16();
#endif

// The shared template. It lives in an unnamed namespace so that every ukr/*.cc gets its own copy
// compiled with its own flags: an inline function with external linkage would be emitted by each
// of them, and the linker could keep an AVX-512 copy for the code that runs on every CPU. For the
// same reason nothing here calls into std templates (std::min and friends).
//
// V is a vector-traits struct: reg, width, zero(), load() (aligned), loadu(), storeu(),
// broadcast(const float*), set1(), fma(a, b, c) = a·b + c, mul(), add().
//
// S is the step of the k loop: elem (the packed element), depth (depths per step), breg and
// loadB(const elem*) (a step's NR/NV lanes of a B micro-panel), areg and broadcastA(const elem*)
// (a step of one row of A, in every lane), madd(a, b, acc) (acc plus the step's products).
namespace {

// The fp32 step: one depth, one FMA.
template <class V>
struct FmaStep {
  using elem = float;
  static constexpr int depth = 1;
  using areg = typename V::reg;
  using breg = typename V::reg;
  static breg loadB(const float* p) { return V::load(p); }
  static areg broadcastA(const float* p) { return V::broadcast(p); }
  static typename V::reg madd(areg a, breg b, typename V::reg acc) { return V::fma(a, b, acc); }
};

// MR rows of C; the A micro-panels are AS elements wide per depth (AS = MR but for the row kernels).
template <class V, class S, int MR, int NV, int AS = MR>
void microKernel(int64_t kc, const typename S::elem* __restrict a, const typename S::elem* __restrict b,
                 float* __restrict c, int64_t ldc, float alpha, float beta, const float* __restrict bias) {
  constexpr int W = V::width;
  constexpr int NR = NV * W;
  constexpr int D = S::depth;
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
    typename S::breg bp[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) bp[v] = S::loadB(b + v * W * D);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      typename S::areg ai = S::broadcastA(a + i * D);
#pragma GCC unroll 8
      for (int v = 0; v < NV; v++) acc[i][v] = S::madd(ai, bp[v], acc[i][v]);
    }
    a += AS * D;
    b += NR * D;
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
template <class V, class S, int MR, int NV, int R = MR>
constexpr KernelOf<typename S::elem> rowKernel(int rows) {
  if (rows > R) return nullptr;
  if constexpr (R > 1)
    if (rows < R) return rowKernel<V, S, MR, NV, R - 1>(rows);
  return &microKernel<V, S, R, NV, MR>;
}

// forRows of an MR×(NV·width) tile.
template <class V, class S, int MR, int NV>
struct RowKernels {
  static_assert(MR <= kMaxMr && NV * V::width <= kMaxNr, "raise kMaxMr or kMaxNr");
  static_assert(kMaxMr == 12, "list one rowKernel per row count below");
  static constexpr KernelOf<typename S::elem> table[kMaxMr] = {
      rowKernel<V, S, MR, NV>(1),  rowKernel<V, S, MR, NV>(2),  rowKernel<V, S, MR, NV>(3),
      rowKernel<V, S, MR, NV>(4),  rowKernel<V, S, MR, NV>(5),  rowKernel<V, S, MR, NV>(6),
      rowKernel<V, S, MR, NV>(7),  rowKernel<V, S, MR, NV>(8),  rowKernel<V, S, MR, NV>(9),
      rowKernel<V, S, MR, NV>(10), rowKernel<V, S, MR, NV>(11), rowKernel<V, S, MR, NV>(12)};
};

// The MicroKernel of traits V with an MR×(NV·width) tile, packing with traits P; its FMA loop has
// as many chains as the tile has accumulators.
template <class V, class P, int MR, int NV>
constexpr MicroKernel makeMicroKernel(const char* isa) {
  using Rows = RowKernels<V, FmaStep<V>, MR, NV>;
  return MicroKernel{isa,
                     MR,
                     NV * V::width,
                     {Rows::table[0], Rows::table[1], Rows::table[2], Rows::table[3], Rows::table[4], Rows::table[5],
                      Rows::table[6], Rows::table[7], Rows::table[8], Rows::table[9], Rows::table[10], Rows::table[11]},
                     &packPanels<P, MR>,
                     &packPanels<P, NV * V::width>,
                     &packPanels<P, NV * V::width, true>,
                     &fmaLoop<V, MR, NV>,
                     2 * MR * NV * V::width};
}

// The Bf16Kernel of traits V with bf16 step S and an MR×(NV·width) tile, packing with traits P
// and rounding with traits R (bf16.h).
template <class V, class S, class P, class R, int MR, int NV>
constexpr Bf16Kernel makeBf16Kernel(const char* name) {
  using Rows = RowKernels<V, S, MR, NV>;
  return Bf16Kernel{name,
                    MR,
                    NV * V::width,
                    {Rows::table[0], Rows::table[1], Rows::table[2], Rows::table[3], Rows::table[4], Rows::table[5],
                     Rows::table[6], Rows::table[7], Rows::table[8], Rows::table[9], Rows::table[10], Rows::table[11]},
                    &packPanelsBf16<P, R, MR>,
                    &packPanelsBf16<P, R, NV * V::width>,
                    &packPanelsBf16<P, R, NV * V::width, true>};
}

}  // namespace
}  // namespace fcnn::ukr
