#include "kernels/activations.h"

#include <cmath>

#include "kernels/vecmath.h"

namespace fcnn::kernels {

namespace {

// LeakyReLU with slope 0 must act as ReLU also at −Inf, where alpha·z would be 0·(−Inf) = NaN.
Activation canonical(Activation kind, float alpha) {
  return kind == Activation::LeakyRelu && alpha == 0.0f ? Activation::Relu : kind;
}

// x·sigmoid(x) and its derivative sigmoid(x)·(1 + x·sigmoid(−x)), from e = e^−|x| as sigmoid, so
// that no exponential overflows and 1 − sigmoid(x) = sigmoid(−x) is taken without cancellation.
// Far below 0 the result is subnormal, and x·e would multiply e's subnormal rounding by |x|: there
// it is (x·h)·(h/(1 + e)) with h = e^(−|x|/2), whose factors are normal, rounded once at the end.
// Where an exponential underflows to 0 the products with x are dropped: what they stand for is
// below every float there, and at ±Inf they would be ±Inf·0 = NaN where the limits are 0 and 1 (or x).
inline float silu(float x) {
  float e = expNonPositive(-std::fabs(x));
  float h = expNonPositive(-0.5f * std::fabs(x));
  float d = 1.0f + e;
  float negative = blend(e < 1e-30f, (x * h) * (h / d), x * e / d);
  return blend(x >= 0.0f, x / d, blend(h == 0.0f, 0.0f, negative));
}

inline float siluSlope(float x) {
  float e = expNonPositive(-std::fabs(x));
  float d = 1.0f + e;
  float s = blend(x >= 0.0f, 1.0f / d, e / d);
  float complement = blend(x >= 0.0f, e / d, 1.0f / d);
  return s + blend(e == 0.0f, 0.0f, x * s * complement);
}

// tanh|x| = (1 − e)/(1 + e) with e = e^−2|x| for |x| ≥ 0.625, where 1 − e ≥ 0.71 loses nothing to
// cancellation; below, Cephes' odd polynomial (peak relative error 1.3e−7 there). Both are
// computed and one selected, so that the loop vectorizes.
inline float tanh(float x) {
  float ax = std::fabs(x), z = x * x;
  float e = expNonPositive(-2.0f * ax);
  float large = (1.0f - e) / (1.0f + e);
  float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z -
                 3.33332819422e-1f) *
                    z * ax +
                ax;
  return std::copysign(blend(ax < 0.625f, small, large), x);
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
      for (size_t i = 0; i < n; i++) a[i] = blend(z[i] < 0.0f, alpha * z[i], z[i]);
      return;
    case Activation::Tanh:
      for (size_t i = 0; i < n; i++) a[i] = tanh(z[i]);
      return;
    case Activation::Sigmoid:
      for (size_t i = 0; i < n; i++) a[i] = sigmoid(alpha * z[i]);
      return;
    case Activation::Silu:
      for (size_t i = 0; i < n; i++) a[i] = silu(z[i]);
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
        float grad = blend(z[i] > 0.0f, da[i], alpha * da[i]);
        dz[i] = std::isnan(z[i]) ? z[i] : grad;
      }
      return;
    case Activation::Tanh:
      for (size_t i = 0; i < n; i++) dz[i] = da[i] * (1.0f - a[i] * a[i]);
      return;
    case Activation::Sigmoid:
      for (size_t i = 0; i < n; i++) dz[i] = da[i] * (alpha * a[i] * (1.0f - a[i]));
      return;
    case Activation::Silu:
      for (size_t i = 0; i < n; i++) dz[i] = da[i] * siluSlope(z[i]);
      return;
  }
}

}  // namespace fcnn::kernels
