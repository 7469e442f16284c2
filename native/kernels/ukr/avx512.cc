// AVX-512F micro-kernel: 12×32, i.e. 24 zmm accumulators, 2 zmm for the row of B and 1 for the
// broadcast of A (27 of the 32 registers). Per step of k it issues 24 FMAs against 2 loads and 12
// broadcasts; 24 independent chains hide the 4-cycle FMA latency at 2 FMAs per cycle. It is the
// template the AVX2 kernel uses, with the wider register; packing is the AVX2 code itself.
#include "kernels/ukr/avx512.h"
#include "kernels/ukr/avx2.h"
#include "kernels/ukr/ukr.h"

namespace fcnn::ukr {
namespace {

constexpr MicroKernel kAvx512 = makeMicroKernel<Avx512, Avx2, 12, 2>("avx512");

}  // namespace

const MicroKernel& avx512() { return kAvx512; }

}  // namespace fcnn::ukr
