// Advice to the operating system about large buffers.
#pragma once

#include <cstddef>

namespace fcnn::kernels {

// Asks for the 2 MiB-aligned part of [data, data + bytes) to be backed by transparent huge pages
// when it is first touched (Linux, madvise MADV_HUGEPAGE; where THP is "always" it already is).
// Touching a fresh page costs a fault, and in a VM a much dearer one: on the machines this was
// measured on, a fresh 47 MB buffer took 130 ms to fill with 4 KiB pages and 30-85 ms with 2 MiB
// ones. Memory already touched keeps its pages until the kernel collapses them. Returns whether
// the advice was given: false without an aligned 2 MiB inside the range, off Linux, or when the
// kernel refuses it.
bool adviseHugePages(void* data, size_t bytes);

}  // namespace fcnn::kernels
