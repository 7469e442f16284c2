#include "kernels/losses.h"
#include "binding/args.h"
#include "binding/register.h"

namespace fcnn::binding {

namespace {

// The checks shared by every function over a rows × cols score matrix with one label per row.
struct Labelled {
  int64_t rows, cols;
  View<int32_t> labels;
};

Labelled labelled(const Args& args, const View<float>& scores, size_t labelsAt, size_t rowsAt) {
  Labelled l{args.dim(rowsAt, "rows"), args.dim(rowsAt + 1, "cols"), args.i32(labelsAt, "labels")};
  args.requireLength(scores, uint64_t(l.rows) * uint64_t(l.cols), "rows x cols");
  args.requireLength(l.labels, l.rows, "rows");
  return l;
}

// The kernels stop at the first label outside [0, cols) and return its row (rows when all are valid).
void requireLabels(const Args& args, const Labelled& l, size_t badRow) {
  if (badRow < size_t(l.rows))
    args.rangeError("labels[" + std::to_string(badRow) + "] = " + std::to_string(l.labels.data[badRow]) +
                    " is outside [0, cols) = [0, " + std::to_string(l.cols) + ")");
}

// softmaxCrossEntropy(logits, labels, probs, rows, cols) -> Σ −log p[label]
Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  Args args(info, "softmaxCrossEntropy", 5);
  auto logits = args.f32(0, "logits");
  auto probs = args.f32(2, "probs");
  auto l = labelled(args, logits, 1, 3);
  args.requireLength(probs, uint64_t(l.rows) * uint64_t(l.cols), "rows x cols");
  args.requireDisjoint(probs, logits);
  args.requireDisjoint(probs, l.labels);
  double loss = 0;
  requireLabels(args, l, kernels::softmaxCrossEntropy(logits.data, l.labels.data, probs.data, l.rows, l.cols, &loss));
  return Napi::Number::New(args.env(), loss);
}

// softmaxCrossEntropyBackward(probs, labels, dlogits, rows, cols, scale)
void SoftmaxCrossEntropyBackward(const Napi::CallbackInfo& info) {
  Args args(info, "softmaxCrossEntropyBackward", 6);
  auto probs = args.f32(0, "probs");
  auto dlogits = args.f32(2, "dlogits");
  auto l = labelled(args, probs, 1, 3);
  double scale = args.number(5, "scale");
  args.requireLength(dlogits, uint64_t(l.rows) * uint64_t(l.cols), "rows x cols");
  args.requireDisjoint(dlogits, probs);
  args.requireDisjoint(dlogits, l.labels);
  requireLabels(
      args, l,
      kernels::softmaxCrossEntropyBackward(probs.data, l.labels.data, dlogits.data, l.rows, l.cols, float(scale)));
}

// meanSquaredError(pred, labels, rows, cols) -> Σ (pred − onehot)²
Napi::Value MeanSquaredError(const Napi::CallbackInfo& info) {
  Args args(info, "meanSquaredError", 4);
  auto pred = args.f32(0, "pred");
  auto l = labelled(args, pred, 1, 2);
  double loss = 0;
  requireLabels(args, l, kernels::meanSquaredError(pred.data, l.labels.data, l.rows, l.cols, &loss));
  return Napi::Number::New(args.env(), loss);
}

// meanSquaredErrorBackward(pred, labels, dpred, rows, cols, scale)
void MeanSquaredErrorBackward(const Napi::CallbackInfo& info) {
  Args args(info, "meanSquaredErrorBackward", 6);
  auto pred = args.f32(0, "pred");
  auto dpred = args.f32(2, "dpred");
  auto l = labelled(args, pred, 1, 3);
  double scale = args.number(5, "scale");
  args.requireLength(dpred, uint64_t(l.rows) * uint64_t(l.cols), "rows x cols");
  args.requireDisjoint(dpred, pred);
  args.requireDisjoint(dpred, l.labels);
  requireLabels(args, l,
                kernels::meanSquaredErrorBackward(pred.data, l.labels.data, dpred.data, l.rows, l.cols, float(scale)));
}

// The checks of a loss against float targets: n values each, the output apart from the inputs.
int64_t targetLength(const Args& args, const View<float>& a, const View<float>& targets, size_t nAt) {
  int64_t n = args.dim(nAt, "n");
  args.requireLength(a, n, "n");
  args.requireLength(targets, n, "n");
  return n;
}

// squaredError(pred, targets, n) -> Σ (pred − targets)²
Napi::Value SquaredError(const Napi::CallbackInfo& info) {
  Args args(info, "squaredError", 3);
  auto pred = args.f32(0, "pred");
  auto targets = args.f32(1, "targets");
  int64_t n = targetLength(args, pred, targets, 2);
  return Napi::Number::New(args.env(), kernels::squaredError(pred.data, targets.data, n));
}

// sigmoidBinaryCrossEntropy(logits, targets, probs, n, alpha) -> Σ BCE
Napi::Value SigmoidBinaryCrossEntropy(const Napi::CallbackInfo& info) {
  Args args(info, "sigmoidBinaryCrossEntropy", 5);
  auto logits = args.f32(0, "logits");
  auto targets = args.f32(1, "targets");
  auto probs = args.f32(2, "probs");
  int64_t n = targetLength(args, logits, targets, 3);
  double alpha = args.number(4, "alpha");
  args.requireLength(probs, n, "n");
  args.requireDisjoint(probs, logits);
  args.requireDisjoint(probs, targets);
  return Napi::Number::New(args.env(),
                           kernels::sigmoidBinaryCrossEntropy(logits.data, targets.data, probs.data, n, float(alpha)));
}

// targetResidual(out, targets, d, n, factor)
void TargetResidual(const Napi::CallbackInfo& info) {
  Args args(info, "targetResidual", 5);
  auto out = args.f32(0, "out");
  auto targets = args.f32(1, "targets");
  auto d = args.f32(2, "d");
  int64_t n = targetLength(args, out, targets, 3);
  double factor = args.number(4, "factor");
  args.requireLength(d, n, "n");
  args.requireDisjoint(d, out);
  args.requireDisjoint(d, targets);
  kernels::targetResidual(out.data, targets.data, d.data, n, float(factor));
}

// softmax(logits, probs, rows, cols)
void Softmax(const Napi::CallbackInfo& info) {
  Args args(info, "softmax", 4);
  auto logits = args.f32(0, "logits");
  auto probs = args.f32(1, "probs");
  int64_t rows = args.dim(2, "rows"), cols = args.dim(3, "cols");
  if (rows > 0 && cols == 0) args.rangeError("argument 'cols' must be at least 1: an empty row has no probabilities");
  args.requireLength(logits, uint64_t(rows) * uint64_t(cols), "rows x cols");
  args.requireLength(probs, uint64_t(rows) * uint64_t(cols), "rows x cols");
  args.requireDisjoint(probs, logits);
  kernels::softmax(logits.data, probs.data, rows, cols);
}

// countCorrect(scores, labels, rows, cols) -> number of rows whose arg-max is the label
Napi::Value CountCorrect(const Napi::CallbackInfo& info) {
  Args args(info, "countCorrect", 4);
  auto scores = args.f32(0, "scores");
  auto l = labelled(args, scores, 1, 2);
  size_t correct = 0;
  requireLabels(args, l, kernels::countCorrect(scores.data, l.labels.data, l.rows, l.cols, &correct));
  return Napi::Number::New(args.env(), double(correct));
}

// argmaxRows(scores, rows, cols, out)
void ArgmaxRows(const Napi::CallbackInfo& info) {
  Args args(info, "argmaxRows", 4);
  auto scores = args.f32(0, "scores");
  int64_t rows = args.dim(1, "rows"), cols = args.dim(2, "cols");
  auto out = args.i32(3, "out");
  if (rows > 0 && cols == 0) args.rangeError("argument 'cols' must be at least 1: an empty row has no arg-max");
  args.requireLength(scores, uint64_t(rows) * uint64_t(cols), "rows x cols");
  args.requireLength(out, rows, "rows");
  args.requireDisjoint(out, scores);
  kernels::argmaxRows(scores.data, rows, cols, out.data);
}

}  // namespace

void registerLosses(Napi::Env env, Napi::Object exports) {
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, SoftmaxCrossEntropy, "softmaxCrossEntropy"));
  exports.Set("softmaxCrossEntropyBackward",
              Napi::Function::New(env, SoftmaxCrossEntropyBackward, "softmaxCrossEntropyBackward"));
  exports.Set("meanSquaredError", Napi::Function::New(env, MeanSquaredError, "meanSquaredError"));
  exports.Set("meanSquaredErrorBackward",
              Napi::Function::New(env, MeanSquaredErrorBackward, "meanSquaredErrorBackward"));
  exports.Set("squaredError", Napi::Function::New(env, SquaredError, "squaredError"));
  exports.Set("sigmoidBinaryCrossEntropy",
              Napi::Function::New(env, SigmoidBinaryCrossEntropy, "sigmoidBinaryCrossEntropy"));
  exports.Set("targetResidual", Napi::Function::New(env, TargetResidual, "targetResidual"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("countCorrect", Napi::Function::New(env, CountCorrect, "countCorrect"));
  exports.Set("argmaxRows", Napi::Function::New(env, ArgmaxRows, "argmaxRows"));
}

}  // namespace fcnn::binding
