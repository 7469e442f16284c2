#include "kernels/peak.h"

#include <time.h>

namespace fcnn {

namespace {

// CPU time of the calling thread: on a machine shared with other processes, the time they take the
// core away does not count, so the peak is the core's own.
double threadSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

}  // namespace

double fmaPeak(const ukr::MicroKernel& kernel, double seconds) {
  // Chunks of about 0.1 ms at a few GHz: long enough that reading the clock costs nothing,
  // short enough to stop close to `seconds`.
  constexpr int64_t kChunk = 1 << 15;
  // The first chunks let the core reach its sustained clock before timing starts. The stores to the
  // volatile sink, never read, keep the compiler from dropping the loops.
  // NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores)
  volatile float sink = kernel.fmaLoop(16 * kChunk, 0.999f);
  double flops = 0, elapsed = 0;
  const double start = threadSeconds();
  do {
    sink = kernel.fmaLoop(kChunk, 0.999f);
    flops += double(kChunk) * kernel.fmaLoopFlops;
    elapsed = threadSeconds() - start;
  } while (elapsed < seconds);
  (void)sink;
  return flops / elapsed / 1e9;
}

}  // namespace fcnn
