// Plain C++ micro-kernel for any CPU (x86-64 without AVX2, arm64, ...): 4×8 scalar accumulators,
// which compilers keep in registers and may vectorize (SSE2, NEON). Same template as the AVX
// kernels, with a one-lane "vector".
#include "kernels/ukr/ukr.h"

namespace fcnn::ukr {
namespace {

struct Scalar {
  using reg = float;
  static constexpr int width = 1;
  static reg zero() { return 0.0f; }
  static reg load(const float* p) { return *p; }
  static reg loadu(const float* p) { return *p; }
  static void storeu(float* p, reg v) { *p = v; }
  static reg broadcast(const float* p) { return *p; }
  static reg set1(float x) { return x; }
  static reg fma(reg a, reg b, reg c) { return a * b + c; }
  static reg mul(reg a, reg b) { return a * b; }
  static reg add(reg a, reg b) { return a + b; }
  static void transpose(reg*) {}  // a 1×1 block is its own transpose
};

constexpr MicroKernel kPortable = makeMicroKernel<Scalar, Scalar, 4, 8>("portable");

}  // namespace

const MicroKernel& portable() { return kPortable; }

}  // namespace fcnn::ukr
