// Optimizer updates over flat parameter arrays (a slab, or one worker's slice of it), in place.
// PyTorch's conventions, so that hyperparameters carry over.
#pragma once

#include <cstddef>

namespace fcnn::kernels {

// p −= lr·(g + weightDecay·p).
void sgdStep(float* params, const float* grads, size_t n, float lr, float weightDecay);

// d = g + weightDecay·p; v = momentum·v + d; p −= lr·v, or lr·(d + momentum·v) when nesterov.
void momentumStep(float* params, const float* grads, float* velocity, size_t n, float lr, float momentum,
                  float weightDecay, bool nesterov);

// Adam at 1-based step t: m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g²,
// p −= lr/(1 − β1^t) · m/(√v/√(1 − β2^t) + eps). decoupled (AdamW): p −= lr·weightDecay·p first,
// from the gradient-free p; otherwise g += weightDecay·p (L2). Requires β1, β2 in [0, 1), t ≥ 1.
void adamStep(float* params, const float* grads, float* m, float* v, size_t n, float lr, double beta1, double beta2,
              float eps, float weightDecay, bool decoupled, double step);

}  // namespace fcnn::kernels
