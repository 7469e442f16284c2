#include "kernels/peak.h"

#include <chrono>

namespace fcnn {

double fmaPeak(const ukr::MicroKernel& kernel, double seconds) {
  using Clock = std::chrono::steady_clock;
  // Chunks of about 0.1 ms at a few GHz: long enough that reading the clock costs nothing,
  // short enough to stop close to `seconds`.
  constexpr int64_t kChunk = 1 << 15;
  // The first chunks let the core reach its sustained clock before timing starts.
  volatile float sink = kernel.fmaLoop(16 * kChunk, 0.999f);
  double flops = 0, elapsed = 0;
  const Clock::time_point start = Clock::now();
  do {
    sink = kernel.fmaLoop(kChunk, 0.999f);
    flops += double(kChunk) * kernel.fmaLoopFlops;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  (void)sink;
  return flops / elapsed / 1e9;
}

}  // namespace fcnn
