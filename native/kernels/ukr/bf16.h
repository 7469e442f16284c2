// bf16 operands for the GEMM: the rounding from fp32 and the micro-panel layout.
//
// bf16 is the upper half of an fp32: the same 8-bit exponent, 7 mantissa bits. The rounding is
// the one vcvtne2ps2bf16 does, so the emulated path packs the same bits as the hardware one:
// round to nearest, ties to even; a NaN stays a NaN (made quiet, its sign and upper payload kept);
// ±Inf stay; a subnormal becomes a zero of its sign (the instruction treats its inputs as zero);
// a value past the largest bf16 rounds to ±Inf.
//
// Layout: vdpbf16ps multiplies pairs of adjacent bf16 and adds both products to one fp32 lane, so
// a micro-panel keeps the two depths of a pair side by side: lane l at depth p is element
// (p / 2)·2W + 2l + p % 2 of a W-wide panel. An odd depth's last pair has a zero second half.
#pragma once

#include <cstdint>

#include "kernels/ukr/pack.h"

namespace fcnn::ukr {
namespace {

// The scalar rounding, which the vector ones must match bit for bit.
inline uint16_t roundToBf16(float x) {
  uint32_t u;
  __builtin_memcpy(&u, &x, sizeof u);
  if ((u & 0x7f800000u) == 0) return uint16_t((u >> 16) & 0x8000u);         // ±0 and subnormals
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40u);  // NaN, made quiet
  return uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// Rounding traits for packPanelsBf16: interleave<W, Stream>(row0, row1, dst) writes dst[2l] =
// bf16(row0[l]), dst[2l + 1] = bf16(row1[l]) for l < W; with Stream, whole 64-byte lines at dst
// (aligned) past the caches where the ISA can.
struct ScalarRounding {
  template <int W, bool Stream>
  static void interleave(const float* row0, const float* row1, uint16_t* dst) {
    for (int l = 0; l < W; l++) {
      dst[2 * l] = roundToBf16(row0[l]);
      dst[2 * l + 1] = roundToBf16(row1[l]);
    }
  }
};

// Packs as packPanels does, `lanes` lanes into W-wide micro-panels panelStride elements apart, into
// the pair layout above. Each panel goes through an fp32 slab in L1 a chunk of depths at a time:
// packPanels (its transposes, its zero lanes) writes the slab, the rounding traits R pair its rows
// (with Stream, past the caches, as packPanels's Stream).
template <class P, class R, int W, bool Stream = false>
void packPanelsBf16(const float* src, int64_t laneStride, int64_t depthStride, int64_t lanes, int64_t depth,
                    uint16_t* dst, int64_t panelStride) {
  constexpr int64_t kChunk = 32;  // depths per slab, even so that chunks start on a pair
  alignas(64) float slab[(kChunk + 1) * W];
  for (int64_t l0 = 0; l0 < lanes; l0 += W, src += W * laneStride, dst += panelStride) {
    const int64_t used = lanes - l0 < W ? lanes - l0 : W;
    for (int64_t p = 0; p < depth; p += kChunk) {
      const int64_t d = depth - p < kChunk ? depth - p : kChunk;
      packPanels<P, W>(src + p * depthStride, laneStride, depthStride, used, d, slab, d * W);
      if (d % 2)
        for (int l = 0; l < W; l++) slab[d * W + l] = 0.0f;
      for (int64_t q = 0; q < d; q += 2)
        R::template interleave<W, Stream>(slab + q * W, slab + (q + 1) * W, dst + (p + q) * W);
    }
  }
  if constexpr (Stream) P::fence();
}

}  // namespace
}  // namespace fcnn::ukr
