// The yardstick of the GEMM benchmark: how fast one core can run a micro-kernel's FMAs when
// nothing else (loads, packing, loop overhead) is in the way.
#pragma once

#include "kernels/ukr/ukr.h"

namespace fcnn {

// Single-core GFLOP/s of `kernel`'s FMA loop (as many independent chains as the kernel has
// accumulators), run for about `seconds` of the calling thread's CPU time.
double fmaPeak(const ukr::MicroKernel& kernel, double seconds);

}  // namespace fcnn
