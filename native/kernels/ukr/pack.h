// Packing, the other half of the per-ISA code: copies a block of op(A) or op(B) into the
// micro-panels the micro-kernel reads (lane-fastest, `W` lanes per depth step, W = MR for A and NR
// for B). Transposes happen here, L×L at a time in registers, so every product the layers run
// (X·Wᵀ, dY·W, dYᵀ·X) reaches the micro-kernel in the same layout.
//
// Like ukr.h it lives in an unnamed namespace, one copy per ISA translation unit. The traits V
// need reg, width, zero(), loadu(), storeu(), stream() (a store past the caches, to an address
// aligned to the register), fence() (orders the streamed stores before later ones) and
// transpose(reg r[width]) (r[i][j] becomes r[j][i]); they need not be the micro-kernel's: AVX-512
// packs with the AVX2 traits, portable with scalars.
//
// Stream: whether the micro-panels are written with streaming stores, for a packed operand that
// would leave the caches before it is read (a large layer's weights, read the next step): no read
// of each line before it is written, and no eviction of what is in the caches.
#pragma once

#include <cstdint>

namespace fcnn::ukr {
namespace {

// One register's worth of a micro-panel, whose panels and depth steps start on 64-byte boundaries.
template <class V, bool Stream>
void storePanel(float* p, typename V::reg v) {
  if constexpr (Stream) V::stream(p, v);
  else V::storeu(p, v);
}

// Copies micro-panels from a source whose depth steps are contiguous runs of lanes
// (laneStride 1). The loop runs along source rows, so that reads are sequential even when the
// rows are far apart (a 4 KiB stride would defeat the hardware prefetchers panel by panel).
template <class V, int W, bool Stream>
void copyPanels(const float* __restrict src, int64_t depthStride, int64_t lanes, int64_t depth, float* __restrict dst,
                int64_t panelStride) {
  constexpr int L = V::width;
  const int64_t full = lanes / W, rest = lanes % W;
  for (int64_t p = 0; p < depth; p++, src += depthStride, dst += W) {
    const float* s = src;
    float* d = dst;
    for (int64_t panel = 0; panel < full; panel++, s += W, d += panelStride) {
      int l = 0;
#pragma GCC unroll 8
      for (; l + L <= W; l += L) storePanel<V, Stream>(d + l, V::loadu(s + l));
#pragma GCC unroll 16
      for (; l < W; l++) d[l] = s[l];
    }
    if (rest)
      for (int l = 0; l < W; l++) d[l] = l < rest ? s[l] : 0.0f;
  }
}

// Transposes one micro-panel from a source whose lanes are contiguous rows (depthStride 1),
// by L×L blocks in registers: lanes [0, used) of the source, zeros after them. The blocks of a
// group of L rows go two at a time along the depth, so that each row's 64-byte line is used whole
// while it is in L1: rows 4 KiB apart (a 1024-wide weight matrix) share one L1 set, and 16 of them
// in flight would evict each other's lines between the halves. Streamed, those 2L depth steps are
// transposed into a slab in L1 first and then written out in order: stored directly, they would
// leave 2L·W/16 lines part-written at once, more than the write-combining buffers hold (each line
// flushed in pieces: the transposing pack of 784-1024-1024-10's weights ran at a third of the speed).
template <class V, int W, bool Stream>
void transposePanel(const float* __restrict src, int64_t laneStride, int64_t used, int64_t depth,
                    float* __restrict dst) {
  constexpr int L = V::width;
  // Transposes the L×L block at depth p, lanes [g, g + L), into rows [0, L) of out.
  const auto block = [&](int64_t p, int g, float* out) {
    typename V::reg r[L];
#pragma GCC unroll 16
    for (int l = 0; l < L; l++) r[l] = g + l < used ? V::loadu(src + (g + l) * laneStride + p) : V::zero();
    V::transpose(r);
#pragma GCC unroll 16
    for (int q = 0; q < L; q++) {
      float* d = out + q * W + g;
      if (g + L <= W) {
        V::storeu(d, r[q]);
      } else {
        float lanes[L];
        V::storeu(lanes, r[q]);
        for (int l = 0; l < W - g; l++) d[l] = lanes[l];
      }
    }
  };
  alignas(64) float slab[Stream ? 2 * L * W : 1];
  int64_t p = 0;
  for (; p + 2 * L <= depth; p += 2 * L) {
    float* out = Stream ? slab : dst + p * W;
#pragma GCC unroll 4
    for (int g = 0; g < W; g += L) {
      block(p, g, out);
      block(p + L, g, out + L * W);
    }
    if constexpr (Stream)
      for (int i = 0; i < 2 * L * W; i += L) V::stream(dst + p * W + i, V::loadu(slab + i));
  }
  for (; p + L <= depth; p += L)
#pragma GCC unroll 4
    for (int g = 0; g < W; g += L) block(p, g, dst + p * W);
  for (; p < depth; p++)
    for (int l = 0; l < W; l++) dst[p * W + l] = l < used ? src[l * laneStride + p] : 0.0f;
}

// Packs `lanes` lanes into ceil(lanes / W) micro-panels of depth × W floats, lane fastest, each
// panelStride floats after the previous one (depth × W, unless this fills a depth range of longer
// panels). The missing lanes of the last panel only feed the part of an edge tile that is thrown
// away; they are zeros rather than whatever the buffer held, which could be NaNs or subnormals
// (slow on some CPUs). Lane l at depth p is src[l·laneStride + p·depthStride]; one stride is 1.
template <class V, int W, bool Stream = false>
void packPanels(const float* src, int64_t laneStride, int64_t depthStride, int64_t lanes, int64_t depth, float* dst,
                int64_t panelStride) {
  if (laneStride == 1) copyPanels<V, W, Stream>(src, depthStride, lanes, depth, dst, panelStride);
  else
    for (int64_t l0 = 0; l0 < lanes; l0 += W, src += W * laneStride, dst += panelStride)
      transposePanel<V, W, Stream>(src, laneStride, lanes - l0 < W ? lanes - l0 : W, depth, dst);
  if constexpr (Stream) V::fence();
}

}  // namespace
}  // namespace fcnn::ukr
