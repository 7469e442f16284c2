// Portable micro-kernel for any CPU (x86-64 without AVX2, arm64, ...): 6×8 with 4-lane vectors of
// the compilers' generic vector extension, which GCC and Clang lower to SSE2 on x86-64, NEON on
// arm64 and scalar code elsewhere; 12 accumulators, as in the AVX2 kernel. Packing uses one-lane
// "vectors" (plain scalar code).
//
// It also holds the emulated bf16 kernel, which every CPU without vdpbf16ps runs: the same
// packed bf16 operands (bf16.h), widened to fp32 (exact: a bf16 is the top half of an fp32) and
// multiplied exactly (8-bit mantissas), each pair added to the accumulator as vdpbf16ps does, the
// odd depth first.
#include <cstdint>

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

typedef uint32_t Uint4 __attribute__((vector_size(16)));

struct EmulatedBf16Step {
  using elem = uint16_t;
  static constexpr int depth = 2;
  struct Pair {
    Float4 even, odd;
  };
  using areg = Pair;
  using breg = Pair;
  // Lane l of `words` holds depth 2q in its low half, 2q + 1 in its high half.
  static Pair widen(Uint4 words) {
    const Uint4 even = words << 16, odd = words & 0xffff0000u;
    Pair p;
    __builtin_memcpy(&p.even, &even, sizeof even);
    __builtin_memcpy(&p.odd, &odd, sizeof odd);
    return p;
  }
  static breg loadB(const uint16_t* p) {
    Uint4 words;
    __builtin_memcpy(&words, p, sizeof words);
    return widen(words);
  }
  static areg broadcastA(const uint16_t* p) {
    uint32_t word;
    __builtin_memcpy(&word, p, sizeof word);
    return widen(Uint4{word, word, word, word});
  }
  static Float4 madd(areg a, breg b, Float4 acc) { return a.even * b.even + (a.odd * b.odd + acc); }
};

constexpr MicroKernel kPortable = makeMicroKernel<Generic4, Scalar, 6, 2>("portable");
constexpr Bf16Kernel kEmulatedBf16 =
    makeBf16Kernel<Generic4, EmulatedBf16Step, Scalar, ScalarRounding, 6, 2>("emulated");

}  // namespace

const MicroKernel& portable() { return kPortable; }
const Bf16Kernel& emulatedBf16() { return kEmulatedBf16; }

}  // namespace fcnn::ukr
