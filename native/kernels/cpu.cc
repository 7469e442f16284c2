#include "kernels/cpu.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace fcnn {

namespace {

std::string isaList(const std::vector<const ukr::MicroKernel*>& kernels) {
  std::string list;
  for (const ukr::MicroKernel* k : kernels) list += (list.empty() ? "" : ", ") + std::string(k->isa);
  return list;
}

const ukr::MicroKernel& chooseMicroKernel() {
  std::vector<const ukr::MicroKernel*> available = availableMicroKernels();
  const char* wanted = std::getenv("FCNN_ISA");
  if (!wanted || !*wanted) return *available.front();
  for (const ukr::MicroKernel* k : available)
    if (std::strcmp(k->isa, wanted) == 0) return *k;
  bool known =
      std::strcmp(wanted, "avx512") == 0 || std::strcmp(wanted, "avx2") == 0 || std::strcmp(wanted, "portable") == 0;
  throw std::runtime_error(
      std::string("environment variable FCNN_ISA=") + wanted +
      (known ? " names an ISA this CPU does not support" : " is not an ISA (expected avx512, avx2 or portable)") +
      "; this CPU supports: " + isaList(available));
}

// sysconf's answer for `name` when it lies in [low, high], else `fallback`.
int64_t cacheBytes(int name, int64_t low, int64_t high, int64_t fallback) {
  const long bytes = name < 0 ? -1 : sysconf(name);
  return bytes >= low && bytes <= high ? bytes : fallback;
}

CacheSizes readCacheSizes() {
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
  const int l1 = _SC_LEVEL1_DCACHE_SIZE, l2 = _SC_LEVEL2_CACHE_SIZE;
#else
  const int l1 = -1, l2 = -1;
#endif
  return {cacheBytes(l1, 16 << 10, 256 << 10, 32 << 10), cacheBytes(l2, 128 << 10, 16 << 20, 512 << 10)};
}

}  // namespace

const CacheSizes& cacheSizes() {
  static const CacheSizes sizes = readCacheSizes();
  return sizes;
}

std::vector<const ukr::MicroKernel*> availableMicroKernels() {
  std::vector<const ukr::MicroKernel*> kernels;
#if FCNN_X86
  // libgcc's checks include the operating system's support (XGETBV) for the wider register state.
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) kernels.push_back(&ukr::avx512());
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) kernels.push_back(&ukr::avx2());
#endif
  kernels.push_back(&ukr::portable());
  return kernels;
}

namespace {

const ukr::Bf16Kernel& chooseBf16Kernel() {
#if FCNN_X86
  if (&activeMicroKernel() == &ukr::avx512() && __builtin_cpu_supports("avx512bf16") &&
      __builtin_cpu_supports("avx512bw"))
    return ukr::avx512bf16();
#endif
  return ukr::emulatedBf16();
}

}  // namespace

const ukr::MicroKernel& activeMicroKernel() {
  // A throwing initializer is retried on the next call, so every load of the addon reports it.
  static const ukr::MicroKernel& active = chooseMicroKernel();
  return active;
}

const ukr::Bf16Kernel& activeBf16Kernel() {
  static const ukr::Bf16Kernel& active = chooseBf16Kernel();
  return active;
}

}  // namespace fcnn
