// Which micro-kernel runs: the best one this CPU supports, or the one named by the environment
// variable FCNN_ISA (avx512, avx2 or portable), so that tests and benchmarks can run each of them.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/ukr/ukr.h"

namespace fcnn {

// The micro-kernels this CPU can run, best first; portable is always last.
std::vector<const ukr::MicroKernel*> availableMicroKernels();

// The micro-kernel sgemm uses, chosen on the first call. Throws std::runtime_error naming FCNN_ISA
// and this CPU's ISAs when the variable holds an unknown ISA or one this CPU cannot run.
const ukr::MicroKernel& activeMicroKernel();

// The bf16 GEMM's kernel: vdpbf16ps when the active micro-kernel is AVX-512 and the CPU has
// AVX512-BF16 (FCNN_ISA=avx2 or portable turns it off), otherwise the emulated one.
const ukr::Bf16Kernel& activeBf16Kernel();

// One core's data caches in bytes, which size the SGEMM blocks.
struct CacheSizes {
  int64_t l1d, l2;
};

// As the C library reads them from CPUID; a Zen 3 core's (32 KiB, 512 KiB) where it cannot tell
// (no such query, or an answer no CPU has, which virtual machines sometimes give).
const CacheSizes& cacheSizes();

}  // namespace fcnn
