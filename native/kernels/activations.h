// Elementwise activations, forward and backward side by side.
#pragma once

#include <cstddef>

namespace fcnn::kernels {

// The codes of ActivationCode in src/native.ts (test/activations.test.ts checks that each code
// computes what src/nn/activations.ts says it does). Switches over it have no default: the build
// makes a missing case an error (-Werror=switch).
enum class Activation : int { Linear = 0, Relu = 1, LeakyRelu = 2, Tanh = 3, Sigmoid = 4, Silu = 5 };
constexpr int kActivationCount = 6;

// a[i] = f(z[i]). alpha is LeakyReLU's slope below 0, or the input scale of sigmoid(alpha·z).
void activationForward(Activation kind, float alpha, const float* z, float* a, size_t n);

// dz[i] = da[i]·f'(z[i]); tanh and sigmoid take their derivative from a = f(z), SiLU from z.
void activationBackward(Activation kind, float alpha, const float* z, const float* a, const float* da, float* dz,
                        size_t n);

}  // namespace fcnn::kernels
