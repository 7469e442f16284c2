// The SGEMM framework (BLIS): five loops around the micro-kernel.
//
//   for jc in n, step NC          B block kc×nc lives in L3
//     for pc in k, step KC        pack op(B)[pc.., jc..] into kc×NR micro-panels
//       for ic in m, step MC      pack op(A)[ic.., pc..] into MR×kc micro-panels (L2)
//         for jr in nc, step NR   one k×NR micro-panel of B stays in L1 ...
//           for ir in mc, step MR ... while the MR×k micro-panels of A stream past it from L2
//             micro-kernel: MR×NR tile of C in registers
//
// Transposes are absorbed by packing, so the micro-kernel always sees the same layout. Packing is
// per-ISA code (ukr/pack.h) like the micro-kernel: with the panel width a compile-time constant
// and 8×8 register transposes it costs 3-5 times less than a generic loop, which matters when
// m or n is small (the forward product at batch 128 spent a quarter of its time packing).
// beta applies on the first k block only (the later ones accumulate into C), the bias on the last.
//
// The bf16 GEMM runs the same loops with the bf16 kernel (ukr/bf16.h): the packing rounds the
// operands to bf16, the micro-kernel sums their products in fp32 into the same fp32 C, and the
// depth blocks hold whole pairs of depths (all of even length but the last).
#include "kernels/gemm.h"

#include <cstdlib>
#include <new>
#include <type_traits>

#include "kernels/cpu.h"

namespace fcnn {

namespace {

// The two precisions of the framework: the kernel, the packed element, and how many depths one
// step of the micro-kernel takes (bf16 pairs them).
struct Fp32 {
  using Kernel = ukr::MicroKernel;
  using elem = float;
  static constexpr int64_t depthUnit = 1;
  static const Kernel& active() { return activeMicroKernel(); }
};

struct Bf16 {
  using Kernel = ukr::Bf16Kernel;
  using elem = uint16_t;
  static constexpr int64_t depthUnit = 2;
  static const Kernel& active() { return activeBf16Kernel(); }
};

// The blocks take a share of each cache level, leaving the rest to the data streaming through it:
// the kc×nr micro-panel of B up to two thirds of L1 (the A micro-panels and the C tile pass by),
// the mc×kc block of A half of L2 (B's current panels pass by), the kc×nc block of B a few MiB of
// the L3 that all cores share. Zen 5 (48 KiB L1): kc = 256 ran the products of 784-1024-1024-10
// at 128 rows 3-4% faster than the 192 that half of L1 gives, 5-8% faster than the 128 of a fixed
// 32 KiB; Zen 3's AVX2 kernel (32 KiB) gets kc = 320, Zen 4's AVX-512 (32 KiB) kc = 128.
// bf16 elements take half the bytes, so its blocks hold twice the depths.
constexpr int64_t kL3ShareBytes = 4 << 20;

struct Blocking {
  int64_t kc, mc, nc;
};

template <class P>
Blocking blockingFor(const typename P::Kernel& kernel) {
  const CacheSizes& caches = cacheSizes();
  const int64_t elemBytes = sizeof(typename P::elem);
  Blocking b;
  b.kc = caches.l1d * 2 / 3 / (kernel.nr * elemBytes) / 64 * 64;
  b.mc = caches.l2 / 2 / (b.kc * elemBytes) / kernel.mr * kernel.mr;
  b.nc = kL3ShareBytes / (b.kc * elemBytes) / kernel.nr * kernel.nr;
  return b;
}

int64_t minimum(int64_t a, int64_t b) { return a < b ? a : b; }
int64_t roundUp(int64_t x, int64_t unit) { return (x + unit - 1) / unit * unit; }

// Depths as packed: an odd bf16 depth takes a whole pair.
template <class P>
int64_t padded(int64_t depth) {
  return roundUp(depth, P::depthUnit);
}

// The block size that splits `total` into the fewest blocks of at most `limit` (a multiple of
// `unit`), all of about the same size: 784 with limit 256 gives 4 blocks of 196 rather than
// 3 × 256 + 16, whose last thin block would cost a full pass over C for little work. An empty
// dimension (packB of n = 0 or k = 0) is one empty block.
int64_t balancedBlock(int64_t total, int64_t limit, int64_t unit) {
  if (total == 0) return 0;
  int64_t blocks = (total + limit - 1) / limit;
  return minimum(limit, roundUp((total + blocks - 1) / blocks, unit));
}

// A packing buffer per thread, 64-byte aligned for the micro-kernel's aligned loads, grown to the
// largest size asked so far: no allocation per call once warm.
class PackBuffer {
 public:
  ~PackBuffer() { std::free(data_); }
  template <class T>
  T* reserve(int64_t count) {
    const int64_t bytes = roundUp(count * int64_t(sizeof(T)), 64);
    if (bytes > capacity_) {
      std::free(data_);
      data_ = std::aligned_alloc(64, size_t(bytes));
      if (!data_) {
        capacity_ = 0;
        throw std::bad_alloc();
      }
      capacity_ = bytes;
    }
    return static_cast<T*>(data_);
  }

 private:
  void* data_ = nullptr;
  int64_t capacity_ = 0;  // bytes
};

thread_local PackBuffer packedA, packedB;

// A tile cut by the right edge of C: the micro-kernel writes full rows on the stack, and only the
// part inside C is copied in (when beta reads it) and out.
template <class P>
void edgeTile(const typename P::Kernel& kernel, int64_t rows, int64_t cols, int64_t kc, const typename P::elem* a,
              const typename P::elem* b, float alpha, float beta, float* c, int64_t ldc, const float* bias) {
  alignas(64) float tile[ukr::kMaxMr * ukr::kMaxNr] = {};
  alignas(64) float tileBias[ukr::kMaxNr] = {};
  const int64_t nr = kernel.nr;
  if (beta != 0)
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < cols; j++) tile[i * nr + j] = c[i * ldc + j];
  if (bias)
    for (int64_t j = 0; j < cols; j++) tileBias[j] = bias[j];
  kernel.forRows[rows - 1](padded<P>(kc) / P::depthUnit, a, b, tile, nr, alpha, beta, bias ? tileBias : nullptr);
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) c[i * ldc + j] = tile[i * nr + j];
}

// The two innermost loops over one packed mc×kc block of A and kc×nc block of B.
template <class P>
void macroKernel(const typename P::Kernel& kernel, int64_t mc, int64_t nc, int64_t kc, const typename P::elem* pa,
                 const typename P::elem* pb, float alpha, float beta, float* c, int64_t ldc, const float* bias) {
  const int64_t mr = kernel.mr, nr = kernel.nr, depth = padded<P>(kc), steps = depth / P::depthUnit;
  for (int64_t j = 0; j < nc; j += nr) {
    const int64_t cols = minimum(nr, nc - j);
    const typename P::elem* b = pb + j * depth;
    const float* biasJ = bias ? bias + j : nullptr;
    for (int64_t i = 0; i < mc; i += mr) {
      const int64_t rows = minimum(mr, mc - i);
      const typename P::elem* a = pa + i * depth;
      float* cij = c + i * ldc + j;
      if (cols == nr) kernel.forRows[rows - 1](steps, a, b, cij, ldc, alpha, beta, biasJ);
      else edgeTile<P>(kernel, rows, cols, kc, a, b, alpha, beta, cij, ldc, biasJ);
    }
  }
}

// C = beta·C + bias, the whole product when it is empty (k = 0) or scaled away (alpha = 0).
void scaleAddBias(int64_t m, int64_t n, float beta, float* c, int64_t ldc, const float* bias) {
  for (int64_t i = 0; i < m; i++) {
    float* ci = c + i * ldc;
    for (int64_t j = 0; j < n; j++) ci[j] = (beta == 0 ? 0.0f : beta * ci[j]) + (bias ? bias[j] : 0.0f);
  }
}

// The block sizes of one product: k and n split as packB splits them (they depend on k and n
// only, so a B packed once serves products of any m), m as the A blocks need.
template <class P>
Blocking blocksOf(const typename P::Kernel& kernel, int64_t m, int64_t n, int64_t k) {
  const Blocking limit = blockingFor<P>(kernel);
  return {balancedBlock(k, limit.kc, P::depthUnit), balancedBlock(m, limit.mc, kernel.mr),
          balancedBlock(n, limit.nc, kernel.nr)};
}

// Where the packed block of op(B) at lanes jc (a multiple of the nc block) and depth pc starts in
// a fully packed op(B): the jc blocks before it hold nc·k elements each (nc a multiple of nr, k
// padded), the depth blocks of its own jc block before it roundUp(nc, nr) elements per depth.
template <class P>
int64_t packedBlockOffset(const typename P::Kernel& kernel, int64_t k, int64_t jc, int64_t nc, int64_t pc) {
  return jc * padded<P>(k) + roundUp(nc, kernel.nr) * pc;
}

// Strides of op(B) by (column j, depth p).
struct StridesB {
  int64_t col, depth;
  StridesB(bool transB, int64_t ldb) : col(transB ? ldb : 1), depth(transB ? 1 : ldb) {}
};

// The five loops, after the products with nothing to multiply. bBlock(kernel, blocks, jc, nc, pc,
// kc) returns the packed kc×nc block of op(B) at (pc, jc): packed on the spot, or found in a B
// packed beforehand.
template <class P, class BBlock>
void gemmLoops(bool transA, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
               const BBlock& bBlock, float beta, float* c, int64_t ldc, const float* bias) {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0) {
    scaleAddBias(m, n, beta, c, ldc, bias);
    return;
  }
  const typename P::Kernel& kernel = P::active();
  const Blocking blocks = blocksOf<P>(kernel, m, n, k);
  typename P::elem* pa = packedA.reserve<typename P::elem>(blocks.mc * blocks.kc);
  // Strides of op(A) by (row i, depth p).
  const int64_t aRow = transA ? 1 : lda, aDepth = transA ? lda : 1;
  for (int64_t jc = 0; jc < n; jc += blocks.nc) {
    const int64_t nc = minimum(blocks.nc, n - jc);
    for (int64_t pc = 0; pc < k; pc += blocks.kc) {
      const int64_t kc = minimum(blocks.kc, k - pc);
      const typename P::elem* pb = bBlock(kernel, blocks, jc, nc, pc, kc);
      const float betaBlock = pc == 0 ? beta : 1.0f;
      const float* biasBlock = bias && pc + kc == k ? bias + jc : nullptr;
      for (int64_t ic = 0; ic < m; ic += blocks.mc) {
        const int64_t mc = minimum(blocks.mc, m - ic);
        kernel.packA(a + ic * aRow + pc * aDepth, aRow, aDepth, mc, kc, pa, padded<P>(kc) * kernel.mr);
        macroKernel<P>(kernel, mc, nc, kc, pa, pb, alpha, betaBlock, c + ic * ldc + jc, ldc, biasBlock);
      }
    }
  }
}

template <class P>
void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc, const float* bias) {
  const StridesB sb(transB, ldb);
  const auto packBlock = [&](const typename P::Kernel& kernel, const Blocking& blocks, int64_t jc, int64_t nc,
                             int64_t pc, int64_t kc) {
    typename P::elem* pb = packedB.reserve<typename P::elem>(blocks.kc * blocks.nc);
    kernel.packB(b + jc * sb.col + pc * sb.depth, sb.col, sb.depth, nc, kc, pb, padded<P>(kc) * kernel.nr);
    return static_cast<const typename P::elem*>(pb);
  };
  gemmLoops<P>(transA, m, n, k, alpha, a, lda, packBlock, beta, c, ldc, bias);
}

template <class P>
int64_t packedSize(int64_t n, int64_t k) {
  return roundUp(n, P::active().nr) * padded<P>(k);
}

template <class P>
void packAll(bool transB, int64_t n, int64_t k, const float* b, int64_t ldb, int64_t lane0, int64_t lane1,
             int64_t depth0, int64_t depth1, typename P::elem* packed, bool stream) {
  const typename P::Kernel& kernel = P::active();
  const Blocking blocks = blocksOf<P>(kernel, 1, n, k);
  // A packed B larger than L2 is not there when it is next read (a layer's packed weights are
  // read the step after; 784-1024-1024-10 has 11.6 MB of them, and the update streams 30 MB
  // meanwhile): writing it past the caches saves reading each line first and evicting what they
  // hold. The caller asks for it too where other cores read what it packs (see gemm.h).
  const bool large = packedSize<P>(n, k) * int64_t(sizeof(typename P::elem)) > cacheSizes().l2;
  const auto pack = stream || large ? kernel.packBStreaming : kernel.packB;
  const StridesB sb(transB, ldb);
  for (int64_t jc = 0; jc < n; jc += blocks.nc) {
    const int64_t nc = minimum(blocks.nc, n - jc);
    const int64_t l0 = lane0 > jc ? lane0 : jc, l1 = minimum(lane1, jc + nc);
    for (int64_t pc = 0; pc < k && l0 < l1; pc += blocks.kc) {
      const int64_t kc = minimum(blocks.kc, k - pc);
      const int64_t d0 = depth0 > pc ? depth0 : pc, d1 = minimum(depth1, pc + kc);
      if (d0 >= d1) continue;
      // l0 − jc is a multiple of nr: the range starts on a panel (and d0 − pc on a pair).
      const int64_t depth = padded<P>(kc);
      typename P::elem* dst =
          packed + packedBlockOffset<P>(kernel, k, jc, nc, pc) + (l0 - jc) * depth + (d0 - pc) * kernel.nr;
      pack(b + l0 * sb.col + d0 * sb.depth, sb.col, sb.depth, l1 - l0, d1 - d0, dst, depth * kernel.nr);
    }
  }
}

template <class P>
void gemmPacked(bool transA, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                const typename P::elem* packed, float beta, float* c, int64_t ldc, const float* bias) {
  const auto findBlock = [&](const typename P::Kernel& kernel, const Blocking&, int64_t jc, int64_t nc, int64_t pc,
                             int64_t) { return packed + packedBlockOffset<P>(kernel, k, jc, nc, pc); };
  gemmLoops<P>(transA, m, n, k, alpha, a, lda, findBlock, beta, c, ldc, bias);
}

}  // namespace

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc, const float* bias) {
  gemm<Fp32>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias);
}

int64_t packedBAlignment() { return activeMicroKernel().nr; }

int64_t packedBSize(int64_t n, int64_t k) { return packedSize<Fp32>(n, k); }

void packB(bool transB, int64_t n, int64_t k, const float* b, int64_t ldb, int64_t lane0, int64_t lane1, int64_t depth0,
           int64_t depth1, float* packed, bool stream) {
  packAll<Fp32>(transB, n, k, b, ldb, lane0, lane1, depth0, depth1, packed, stream);
}

void sgemmPackedB(bool transA, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                  const float* packed, float beta, float* c, int64_t ldc, const float* bias) {
  gemmPacked<Fp32>(transA, m, n, k, alpha, a, lda, packed, beta, c, ldc, bias);
}

void gemmBf16(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
              const float* b, int64_t ldb, float beta, float* c, int64_t ldc, const float* bias) {
  gemm<Bf16>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias);
}

int64_t packedBAlignmentBf16() { return activeBf16Kernel().nr; }

int64_t packedBSizeBf16(int64_t n, int64_t k) { return packedSize<Bf16>(n, k); }

void packBBf16(bool transB, int64_t n, int64_t k, const float* b, int64_t ldb, int64_t lane0, int64_t lane1,
               int64_t depth0, int64_t depth1, uint16_t* packed, bool stream) {
  packAll<Bf16>(transB, n, k, b, ldb, lane0, lane1, depth0, depth1, packed, stream);
}

void gemmBf16PackedB(bool transA, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                     const uint16_t* packed, float beta, float* c, int64_t ldc, const float* bias) {
  gemmPacked<Bf16>(transA, m, n, k, alpha, a, lda, packed, beta, c, ldc, bias);
}

}  // namespace fcnn
