// AVX512-BF16 micro-kernel: 12×32 as the AVX-512 kernel, with vdpbf16ps in place of the FMA: each
// instruction multiplies 16 lanes' pairs of bf16 depths and adds both products to the fp32
// accumulator, twice the multiply-adds of an fp32 FMA. Per pair of depths it issues 24 of them
// against 2 loads of B and 12 broadcasts of A's pairs. Packing transposes with the AVX2 code into an
// fp32 slab and rounds it with vcvtne2ps2bf16 (RNE, the scalar roundToBf16's bits).
#include <cstring>

#include "kernels/ukr/avx2.h"
#include "kernels/ukr/avx512.h"
#include "kernels/ukr/ukr.h"

namespace fcnn::ukr {
namespace {

struct Dpbf16Step {
  using elem = uint16_t;
  static constexpr int depth = 2;
  using areg = __m512i;
  using breg = __m512i;
  static breg loadB(const uint16_t* p) { return _mm512_load_si512(p); }
  static areg broadcastA(const uint16_t* p) {
    int32_t pair;
    std::memcpy(&pair, p, sizeof pair);
    return _mm512_set1_epi32(pair);
  }
  static __m512 madd(areg a, breg b, __m512 acc) { return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b); }
};

struct Avx512Rounding {
  template <int W, bool Stream>
  static void interleave(const float* row0, const float* row1, uint16_t* dst) {
    // vcvtne2ps2bf16 puts row0's 16 values in the low half and row1's in the high half; the
    // permutation pairs element l of each.
    alignas(64) static constexpr uint16_t kPairs[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
                                                        8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i pairs = _mm512_load_si512(kPairs);
#pragma GCC unroll 4
    for (int l = 0; l < W; l += 16) {
      const int n = W - l < 16 ? W - l : 16;
      const __mmask16 lanes = __mmask16((1u << n) - 1);
      const __m512 r0 = _mm512_maskz_loadu_ps(lanes, row0 + l), r1 = _mm512_maskz_loadu_ps(lanes, row1 + l);
      const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(r1, r0);
      const __m512i paired = _mm512_permutexvar_epi16(pairs, both);
      if (Stream && n == 16) _mm512_stream_si512(reinterpret_cast<__m512i*>(dst + 2 * l), paired);
      else _mm512_mask_storeu_epi16(dst + 2 * l, __mmask32((uint64_t(1) << (2 * n)) - 1), paired);
    }
  }
};

constexpr Bf16Kernel kAvx512Bf16 = makeBf16Kernel<Avx512, Dpbf16Step, Avx2, Avx512Rounding, 12, 2>("avx512bf16");

}  // namespace

const Bf16Kernel& avx512bf16() { return kAvx512Bf16; }

}  // namespace fcnn::ukr
