#include "kernels/activations.h"

#include <cmath>

namespace fcnn::kernels {

namespace {

// LeakyReLU with slope 0 must act as ReLU also at −Inf, where alpha·z would be 0·(−Inf) = NaN.
Activation canonical(Activation kind, float alpha) {
  return kind == Activation::LeakyRelu && alpha == 0.0f ? Activation::Relu : kind;
}

// Sign-branched so that nothing overflows: 1/(1 + e^−t) for t ≥ 0 and e^t/(1 + e^t) below, both
// from e = e^−|t| in [0, 1]. sigmoid(±1e30) is then exactly 1 or 0, and a NaN t stays NaN.
inline float sigmoid(float t) {
  float e = std::exp(-std::fabs(t));
  float d = 1.0f + e;
  return t >= 0.0f ? 1.0f / d : e / d;
}

// v where `above`, else slope·v. Written as two selects and an add (one of the terms is an exact 0)
// because GCC does not vectorize a select between v and slope·v under the default
// -ftrapping-math: it will not multiply speculatively.
inline float slopes(bool above, float v, float slope) {
  float up = above ? v : 0.0f, down = above ? 0.0f : v;
  return up + slope * down;
}

}  // namespace

void activationForward(Activation kind, float alpha, const float* __restrict z, float* __restrict a, size_t n) {
  switch (canonical(kind, alpha)) {
    case Activation::Linear:
      for (size_t i = 0; i < n; i++) a[i] = z[i];
      return;
    // Tested as z < 0 so that NaN, for which every comparison is false, passes through.
    case Activation::Relu:
      for (size_t i = 0; i < n; i++) a[i] = z[i] < 0.0f ? 0.0f : z[i];
      return;
    case Activation::LeakyRelu:
      for (size_t i = 0; i < n; i++) a[i] = slopes(!(z[i] < 0.0f), z[i], alpha);
      return;
    case Activation::Tanh:
      for (size_t i = 0; i < n; i++) a[i] = std::tanh(z[i]);
      return;
    case Activation::Sigmoid:
      for (size_t i = 0; i < n; i++) a[i] = sigmoid(alpha * z[i]);
      return;
  }
}

void activationBackward(Activation kind, float alpha, const float* __restrict z, const float* __restrict a,
                        const float* __restrict da, float* __restrict dz, size_t n) {
  switch (canonical(kind, alpha)) {
    case Activation::Linear:
      for (size_t i = 0; i < n; i++) dz[i] = da[i];
      return;
    // The slope at exactly 0 is the left one (as in PyTorch), and f'(NaN) is NaN. A select rather
    // than da·0 keeps an infinite da from becoming NaN where f' = 0.
    case Activation::Relu:
      for (size_t i = 0; i < n; i++) {
        float g = da[i], grad = z[i] > 0.0f ? g : 0.0f;
        dz[i] = std::isnan(z[i]) ? z[i] : grad;
      }
      return;
    case Activation::LeakyRelu:
      for (size_t i = 0; i < n; i++) {
        float grad = slopes(z[i] > 0.0f, da[i], alpha);
        dz[i] = std::isnan(z[i]) ? z[i] : grad;
      }
      return;
    case Activation::Tanh:
      for (size_t i = 0; i < n; i++) dz[i] = da[i] * (1.0f - a[i] * a[i]);
      return;
    case Activation::Sigmoid:
      for (size_t i = 0; i < n; i++) dz[i] = da[i] * (alpha * a[i] * (1.0f - a[i]));
      return;
  }
}

}  // namespace fcnn::kernels
