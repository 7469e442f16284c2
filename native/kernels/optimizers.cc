#include "kernels/optimizers.h"

#include <cmath>

#include "kernels/clones.h"

namespace fcnn::kernels {

FCNN_WIDE_CLONES
void sgdStep(float* __restrict params, const float* __restrict grads, size_t n, float lr, float weightDecay) {
  for (size_t i = 0; i < n; i++) params[i] -= lr * (grads[i] + weightDecay * params[i]);
}

FCNN_WIDE_CLONES
void momentumStep(float* __restrict params, const float* __restrict grads, float* __restrict velocity, size_t n,
                  float lr, float momentum, float weightDecay, bool nesterov) {
  for (size_t i = 0; i < n; i++) {
    float d = grads[i] + weightDecay * params[i];
    float v = momentum * velocity[i] + d;
    velocity[i] = v;
    params[i] -= lr * (nesterov ? d + momentum * v : v);
  }
}

FCNN_WIDE_CLONES
void adamStep(float* __restrict params, const float* __restrict grads, float* __restrict m, float* __restrict v,
              size_t n, float lr, double beta1, double beta2, float eps, float weightDecay, bool decoupled,
              double step) {
  // The bias corrections in double: 1 − β^t loses most of float's digits when β is near 1 and t small.
  float stepSize = float(lr / (1.0 - std::pow(beta1, step)));
  float inverseRootCorrection = float(1.0 / std::sqrt(1.0 - std::pow(beta2, step)));
  float b1 = float(beta1), b2 = float(beta2), c1 = float(1.0 - beta1), c2 = float(1.0 - beta2);
  float decay = decoupled ? 1.0f - lr * weightDecay : 1.0f;
  float l2 = decoupled ? 0.0f : weightDecay;
  for (size_t i = 0; i < n; i++) {
    float g = grads[i] + l2 * params[i];
    float mi = b1 * m[i] + c1 * g;
    float vi = b2 * v[i] + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] = params[i] * decay - stepSize * (mi / (std::sqrt(vi) * inverseRootCorrection + eps));
  }
}

}  // namespace fcnn::kernels
