#include "kernels/losses.h"

#include <cmath>
#include <limits>

#include "kernels/reductions.h"
#include "kernels/vecmath.h"

namespace fcnn::kernels {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool validLabel(int32_t label, size_t cols) { return label >= 0 && size_t(label) < cols; }

// Softmax of one row into p; returns −log p[label] for the given label. The finite case subtracts
// the row max before exp (log-sum-exp), so logits of ±1e4 neither overflow nor underflow to 0/0.
double softmaxRow(const float* __restrict x, float* __restrict p, size_t cols, size_t label) {
  float max = -kInf;
  bool nan = false;
  for (size_t j = 0; j < cols; j++) {
    max = x[j] > max ? x[j] : max;
    nan |= std::isnan(x[j]);
  }
  if (nan) {
    for (size_t j = 0; j < cols; j++) p[j] = float(kNaN);
    return kNaN;
  }
  if (max == kInf) {
    size_t top = 0;
    for (size_t j = 0; j < cols; j++) top += x[j] == kInf;
    for (size_t j = 0; j < cols; j++) p[j] = x[j] == kInf ? float(1.0 / double(top)) : 0.0f;
    return x[label] == kInf ? std::log(double(top)) : double(kInf);
  }
  if (max == -kInf) {
    for (size_t j = 0; j < cols; j++) p[j] = float(1.0 / double(cols));
    return std::log(double(cols));
  }
  for (size_t j = 0; j < cols; j++) p[j] = expNonPositive(x[j] - max);
  double sum = sumLanes(cols, [&](size_t j) { return double(p[j]); });
  for (size_t j = 0; j < cols; j++) p[j] = float(double(p[j]) / sum);
  return (double(max) - double(x[label])) + std::log(sum);
}

size_t argmaxRow(const float* x, size_t cols) {
  size_t best = 0;
  for (size_t j = 0; j < cols; j++) {
    if (std::isnan(x[j])) return j;
    if (x[j] > x[best]) best = j;
  }
  return best;
}

// (out − onehot(label))·factor per row: the backward of softmax cross-entropy (factor = scale) and of
// MSE (factor = 2·scale). Returns the first row with a label outside [0, cols), or rows.
size_t onehotResidual(const float* __restrict out, const int32_t* __restrict labels, float* __restrict d, size_t rows,
                      size_t cols, float factor) {
  for (size_t r = 0; r < rows; r++) {
    int32_t label = labels[r];
    if (!validLabel(label, cols)) return r;
    const float* p = out + r * cols;
    float* g = d + r * cols;
    for (size_t j = 0; j < cols; j++) g[j] = p[j] * factor;
    g[label] = (p[label] - 1.0f) * factor;
  }
  return rows;
}

}  // namespace

size_t softmaxCrossEntropy(const float* __restrict logits, const int32_t* __restrict labels, float* __restrict probs,
                           size_t rows, size_t cols, double* loss) {
  double total = 0;
  for (size_t r = 0; r < rows; r++) {
    int32_t label = labels[r];
    if (!validLabel(label, cols)) return r;
    total += softmaxRow(logits + r * cols, probs + r * cols, cols, size_t(label));
  }
  *loss = total;
  return rows;
}

size_t softmaxCrossEntropyBackward(const float* __restrict probs, const int32_t* __restrict labels,
                                   float* __restrict dlogits, size_t rows, size_t cols, float scale) {
  return onehotResidual(probs, labels, dlogits, rows, cols, scale);
}

size_t meanSquaredError(const float* __restrict pred, const int32_t* __restrict labels, size_t rows, size_t cols,
                        double* loss) {
  double total = 0;
  for (size_t r = 0; r < rows; r++) {
    int32_t label = labels[r];
    if (!validLabel(label, cols)) return r;
    const float* p = pred + r * cols;
    for (size_t j = 0; j < cols; j++) {
      double d = double(p[j]) - (j == size_t(label) ? 1.0 : 0.0);
      total += d * d;
    }
  }
  *loss = total;
  return rows;
}

size_t meanSquaredErrorBackward(const float* __restrict pred, const int32_t* __restrict labels, float* __restrict dpred,
                                size_t rows, size_t cols, float scale) {
  return onehotResidual(pred, labels, dpred, rows, cols, 2.0f * scale);
}

double squaredError(const float* __restrict pred, const float* __restrict targets, size_t n) {
  return sumLanes(n, [&](size_t i) {
    double d = double(pred[i]) - double(targets[i]);
    return d * d;
  });
}

double sigmoidBinaryCrossEntropy(const float* __restrict logits, const float* __restrict targets,
                                 float* __restrict probs, size_t n, float alpha) {
  for (size_t i = 0; i < n; i++) probs[i] = sigmoid(alpha * logits[i]);
  return sumLanes(n, [&](size_t i) {
    double u = double(alpha * logits[i]);
    return (u > 0 ? u : 0.0) - u * double(targets[i]) + std::log1p(std::exp(-std::fabs(u)));
  });
}

void targetResidual(const float* __restrict out, const float* __restrict targets, float* __restrict d, size_t n,
                    float factor) {
  for (size_t i = 0; i < n; i++) d[i] = (out[i] - targets[i]) * factor;
}

void softmax(const float* __restrict logits, float* __restrict probs, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; r++) softmaxRow(logits + r * cols, probs + r * cols, cols, 0);
}

size_t countCorrect(const float* __restrict scores, const int32_t* __restrict labels, size_t rows, size_t cols,
                    size_t* correct) {
  size_t count = 0;
  for (size_t r = 0; r < rows; r++) {
    int32_t label = labels[r];
    if (!validLabel(label, cols)) return r;
    count += argmaxRow(scores + r * cols, cols) == size_t(label);
  }
  *correct = count;
  return rows;
}

void argmaxRows(const float* __restrict scores, size_t rows, size_t cols, int32_t* __restrict out) {
  for (size_t r = 0; r < rows; r++) out[r] = int32_t(argmaxRow(scores + r * cols, cols));
}

}  // namespace fcnn::kernels
