// Elementwise math written so that loops calling it vectorize at -O3 on the baseline ISA, without
// -ffast-math. GCC will not if-convert a loop whose floating-point work sits in a branch (under the
// default -ftrapping-math it may not execute it speculatively), and it creates such branches
// itself from a ?: whose arms are computed only for it. And glibc's expf and tanhf are scalar
// calls (about 5 and 14 ns an element here), which keeps loops over sigmoid, tanh or softmax scalar.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace fcnn::kernels {

// c ? a : b through bit masks: straight-line code, whatever GCC knows about a and b.
inline float blend(bool c, float a, float b) {
  uint32_t aBits, bBits;
  std::memcpy(&aBits, &a, sizeof aBits);
  std::memcpy(&bBits, &b, sizeof bBits);
  uint32_t mask = 0u - uint32_t(c);
  uint32_t bits = (aBits & mask) | (bBits & ~mask);
  float result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}

// e^x for x ≤ 0, all that sigmoid and tanh (e^−|t|) and softmax (e^(x − max)) need.
// Cody–Waite reduction x = k·ln2 + r with |r| ≤ ln2/2 and Cephes' expf polynomial for e^r (peak
// relative error 4.2e−9 on the reduced range). Checked against double exp on every float x ≤ 0:
// within 1 ulp, subnormal results included; NaN stays NaN. Not for x > 0.
inline float expNonPositive(float x) {
  constexpr float kLog2e = 1.44269504f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  // Below −110, e^x rounds to 0 and 2^k would leave the range built below, so x is clamped there.
  // The clamp works on the bit patterns, which for x ≤ 0 grow with |x| as unsigned integers: an
  // integer min needs no branch, where a float select would get one (GCC specializes the constant
  // arm). A NaN is clamped too, and put back at the end.
  constexpr uint32_t kFloorBits = 0xc2dc0000;  // −110.0f
  uint32_t xBits;
  std::memcpy(&xBits, &x, sizeof xBits);
  uint32_t cBits = xBits < kFloorBits ? xBits : kFloorBits;
  float c;
  std::memcpy(&c, &cBits, sizeof c);
  // Adding 1.5·2^23 rounds c·log2(e) to the integer k, which lands in the low mantissa bits.
  constexpr float kRound = 12582912.0f;
  float t = c * kLog2e + kRound;
  float k = t - kRound;
  float r = (c - k * kLn2Hi) - k * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  // 2^k for k in [−159, 0] as two normal factors 2^(k/2)·2^(k − k/2).
  uint32_t tBits;
  std::memcpy(&tBits, &t, sizeof tBits);
  int32_t kInt = int32_t(tBits) - 0x4b400000;
  int32_t half = kInt / 2;
  uint32_t s1Bits = uint32_t(half + 127) << 23, s2Bits = uint32_t(kInt - half + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &s1Bits, sizeof s1);
  std::memcpy(&s2, &s2Bits, sizeof s2);
  return blend(x == x, p * s1 * s2, x);
}

// Sign-branched so that nothing overflows: 1/(1 + e^−t) for t ≥ 0 and e^t/(1 + e^t) below, both
// from e = e^−|t| in [0, 1]. sigmoid(±1e30) is then exactly 1 or 0, and a NaN t stays NaN.
inline float sigmoid(float t) {
  float e = expNonPositive(-std::fabs(t));
  float d = 1.0f + e;
  return blend(t >= 0.0f, 1.0f / d, e / d);
}

}  // namespace fcnn::kernels
