// AVX2 + FMA micro-kernel: 6×16, i.e. 12 ymm accumulators, 2 ymm for the row of B and 1 for the
// broadcast of A (15 of the 16 registers). Per step of k it issues 12 FMAs against 2 loads and 6
// broadcasts, well within the two FMA and three load ports of Zen 3 and Haswell-to-Alder Lake;
// 12 independent chains hide the 4-cycle FMA latency at 2 FMAs per cycle.
#include "kernels/ukr/avx2.h"

#include "kernels/ukr/ukr.h"

namespace fcnn::ukr {
namespace {

constexpr MicroKernel kAvx2 = makeMicroKernel<Avx2, Avx2, 6, 2>("avx2");

}  // namespace

const MicroKernel& avx2() { return kAvx2; }

}  // namespace fcnn::ukr
