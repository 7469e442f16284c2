// AVX-512F micro-kernel: 12×32, i.e. 24 zmm accumulators, 2 zmm for the row of B and 1 for the
// broadcast of A (27 of the 32 registers). Per step of k it issues 24 FMAs against 2 loads and 12
// broadcasts; 24 independent chains hide the 4-cycle FMA latency at 2 FMAs per cycle. It is the
// template the AVX2 kernel uses, with the wider register; packing is the AVX2 code itself.
#include <immintrin.h>

#include "kernels/ukr/avx2.h"
#include "kernels/ukr/ukr.h"

namespace fcnn::ukr {
namespace {

struct Avx512 {
  using reg = __m512;
  static constexpr int width = 16;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_load_ps(p); }
  static reg loadu(const float* p) { return _mm512_loadu_ps(p); }
  static void storeu(float* p, reg v) { _mm512_storeu_ps(p, v); }
  static reg broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static reg set1(float x) { return _mm512_set1_ps(x); }
  static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
};

constexpr MicroKernel kAvx512 = makeMicroKernel<Avx512, Avx2, 12, 2>("avx512");

}  // namespace

const MicroKernel& avx512() { return kAvx512; }

}  // namespace fcnn::ukr
