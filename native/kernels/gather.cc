#include "kernels/gather.h"

namespace fcnn::kernels {

namespace {

bool validIndex(int32_t index, size_t count) { return index >= 0 && size_t(index) < count; }

}  // namespace

size_t gatherRows(const uint8_t* __restrict images, size_t imageCount, size_t width,
                  const int32_t* __restrict indices, size_t count, float* __restrict out, float scale,
                  const float* __restrict mean, const float* __restrict invStd) {
  for (size_t r = 0; r < count; r++) {
    int32_t index = indices[r];
    if (!validIndex(index, imageCount)) return r;
    const uint8_t* src = images + size_t(index) * width;
    float* dst = out + r * width;
    // Loop-invariant branches: GCC unswitches them into one vectorized loop per case.
    for (size_t j = 0; j < width; j++)
      dst[j] = (float(src[j]) * scale - (mean ? mean[j] : 0.0f)) * (invStd ? invStd[j] : 1.0f);
  }
  return count;
}

size_t gatherLabels(const uint8_t* __restrict labels, size_t labelCount, const int32_t* __restrict indices,
                    size_t count, int32_t* __restrict out) {
  for (size_t r = 0; r < count; r++) {
    int32_t index = indices[r];
    if (!validIndex(index, labelCount)) return r;
    out[r] = labels[index];
  }
  return count;
}

}  // namespace fcnn::kernels
