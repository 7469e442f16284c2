// Portable micro-kernel for any CPU (x86-64 without AVX2, arm64, ...): 6×8 with 4-lane vectors of
// the compilers' generic vector extension, which GCC and Clang lower to SSE2 on x86-64, NEON on
// arm64 and scalar code elsewhere; 12 accumulators, as in the AVX2 kernel. Packing uses one-lane
// "vectors" (plain scalar code).
#include "kernels/ukr/ukr.h"

namespace fcnn::ukr {
namespace {

typedef float Float4 __attribute__((vector_size(16)));

struct Generic4 {
  using reg = Float4;
  static constexpr int width = 4;
  static reg zero() { return reg{0, 0, 0, 0}; }
  static reg load(const float* p) { return loadu(p); }
  static reg loadu(const float* p) {
    reg v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
  }
  static void storeu(float* p, reg v) { __builtin_memcpy(p, &v, sizeof v); }
  static reg broadcast(const float* p) { return set1(*p); }
  static reg set1(float x) { return reg{x, x, x, x}; }
  static reg fma(reg a, reg b, reg c) { return a * b + c; }
  static reg mul(reg a, reg b) { return a * b; }
  static reg add(reg a, reg b) { return a + b; }
};

struct Scalar {
  using reg = float;
  static constexpr int width = 1;
  static reg zero() { return 0.0f; }
  static reg loadu(const float* p) { return *p; }
  static void storeu(float* p, reg v) { *p = v; }
  static void stream(float* p, reg v) { *p = v; }  // (no portable streaming store)
  static void fence() {}
  static void transpose(reg*) {}  // a 1×1 block is its own transpose
};

constexpr MicroKernel kPortable = makeMicroKernel<Generic4, Scalar, 6, 2>("portable");

}  // namespace

const MicroKernel& portable() { return kPortable; }

}  // namespace fcnn::ukr
