// Minibatch assembly: rows of a dataset picked by index, converted to float32. The features are
// uint8 (pixels, one byte a value in memory and normalized here) or float32 (any range); class
// labels are uint8, uint16 or int32, so that the smallest type holding the classes is stored.
//
// Each index is checked as it is read; a kernel stops at the first outside the dataset and returns
// its position r (rows before it are written), or `count` when all are valid. Checking here rather
// than in a pass ahead keeps the read in bounds even when the indices live in shared memory that
// another thread writes meanwhile.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fcnn::kernels {

// out[r·width + j] = (images[indices[r]·width + j]·scale − mean[j])·invStd[j] for r < count, where
// a null mean reads as 0 and a null invStd as 1. indices[r] must lie in [0, imageCount).
// Instantiated for uint8_t and float features.
template <typename Feature>
size_t gatherRows(const Feature* images, size_t imageCount, size_t width, const int32_t* indices, size_t count,
                  float* out, float scale, const float* mean, const float* invStd);

// Asks the cache for rows indices[r], r < count, to be gathered later: a minibatch's rows lie anywhere
// in the dataset, each one a miss to memory. Indices outside [0, imageCount) are skipped (the gather
// reports them). `rowBytes` is the width times the size of a feature.
void prefetchRows(const uint8_t* images, size_t imageCount, size_t rowBytes, const int32_t* indices, size_t count);

// out[r] = labels[indices[r]] for r < count; indices[r] must lie in [0, labelCount).
// Instantiated for uint8_t, uint16_t and int32_t labels.
template <typename Label>
size_t gatherLabels(const Label* labels, size_t labelCount, const int32_t* indices, size_t count, int32_t* out);

}  // namespace fcnn::kernels
