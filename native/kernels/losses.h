// Row-wise softmax, losses and accuracy over a rows × cols matrix with one class label per row.
//
// Kernels that read labels check each one as they read it and stop at the first outside
// [0, cols): they return that row, or `rows` when every label is valid (outputs of the rows before
// it are written). Checking here rather than in a pass ahead keeps the index safe even when the
// labels live in shared memory that another thread writes meanwhile.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fcnn::kernels {

// probs = softmax(logits) row by row; *loss = Σ_rows −log p[label], computed as lse − x[label]
// in double so that it stays finite where p[label] underflows in float. A row with NaN gets NaN
// probabilities and loss; +Inf logits share the probability equally (the limit) and the others
// get 0; a row all −Inf is uniform (the limit of equal logits), with loss log(cols).
size_t softmaxCrossEntropy(const float* logits, const int32_t* labels, float* probs, size_t rows, size_t cols,
                           double* loss);
// dlogits = (probs − onehot(labels))·scale.
size_t softmaxCrossEntropyBackward(const float* probs, const int32_t* labels, float* dlogits, size_t rows, size_t cols,
                                   float scale);

// *loss = Σ over rows and columns of (pred − onehot(labels))², in double.
size_t meanSquaredError(const float* pred, const int32_t* labels, size_t rows, size_t cols, double* loss);
// dpred = 2·(pred − onehot(labels))·scale.
size_t meanSquaredErrorBackward(const float* pred, const int32_t* labels, float* dpred, size_t rows, size_t cols,
                                float scale);

// Losses against float targets (regression rows, multi-label 0/1 rows), over n = rows × cols values.
// *loss = Σ (pred − targets)², in double.
double squaredError(const float* pred, const float* targets, size_t n);
// probs = sigmoid(alpha·logits); returns Σ binary cross-entropy of the probabilities against the
// targets, computed from u = alpha·logit as max(u, 0) − u·t + log(1 + e^−|u|) in double: finite for
// any finite logit, where −t·log p − (1 − t)·log(1 − p) would take the log of a p rounded to 0 or 1.
double sigmoidBinaryCrossEntropy(const float* logits, const float* targets, float* probs, size_t n, float alpha);
// d = (out − targets)·factor: the backward of squaredError (factor 2·scale) and of
// sigmoidBinaryCrossEntropy with respect to the logits (factor alpha·scale).
void targetResidual(const float* out, const float* targets, float* d, size_t n, float factor);

// probs = softmax(logits) row by row, with the conventions of softmaxCrossEntropy.
void softmax(const float* logits, float* probs, size_t rows, size_t cols);

// *correct = number of rows whose arg-max (as argmaxRows) equals the label.
size_t countCorrect(const float* scores, const int32_t* labels, size_t rows, size_t cols, size_t* correct);
// out[r] = index of the largest score of row r: the first on ties, the first NaN if there is one.
// cols ≥ 1.
void argmaxRows(const float* scores, size_t rows, size_t cols, int32_t* out);

}  // namespace fcnn::kernels
