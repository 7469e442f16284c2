// Which micro-kernel runs: the best one this CPU supports, or the one named by the environment
// variable FCNN_ISA (avx512, avx2 or portable), so that tests and benchmarks can run each of them.
#pragma once

#include <vector>

#include "kernels/ukr/ukr.h"

namespace fcnn {

// The micro-kernels this CPU can run, best first; portable is always last.
std::vector<const ukr::MicroKernel*> availableMicroKernels();

// The micro-kernel sgemm uses, chosen on the first call. Throws std::runtime_error naming FCNN_ISA
// and this CPU's ISAs when the variable holds an unknown ISA or one this CPU cannot run.
const ukr::MicroKernel& activeMicroKernel();

}  // namespace fcnn
