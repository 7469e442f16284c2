#include <initializer_list>

#include "binding/args.h"
#include "binding/register.h"
#include "kernels/normalization.h"

namespace fcnn::binding {

namespace {

// Every output must be disjoint from every input and from the other outputs.
void requireOutputsDisjoint(const Args& args, std::initializer_list<const View<float>*> outputs,
                            std::initializer_list<const View<float>*> inputs) {
  for (auto o = outputs.begin(); o != outputs.end(); ++o) {
    for (auto i : inputs) args.requireDisjoint(**o, *i);
    for (auto p = o + 1; p != outputs.end(); ++p) args.requireDisjoint(**o, **p);
  }
}

// Rows of no columns: nothing to normalize, and a loop over up to 2^31 - 1 empty rows.
void requireColumns(const Args& args, int64_t rows, int64_t cols) {
  if (rows > 0 && cols == 0)
    args.rangeError("argument 'cols' must be at least 1: an empty row has nothing to normalize");
}

double epsilon(const Args& args, size_t i) {
  double eps = args.number(i, "eps");
  if (eps < 0) args.rangeError("argument 'eps' must be at least 0, got " + std::to_string(eps));
  return eps;
}

// layerNormForward(x, gamma, beta, y, mean, rstd, rows, cols, eps)
void LayerNormForward(const Napi::CallbackInfo& info) {
  Args args(info, "layerNormForward", 9);
  auto x = args.f32(0, "x"), gamma = args.f32(1, "gamma"), beta = args.f32(2, "beta");
  auto y = args.f32(3, "y"), mean = args.f32(4, "mean"), rstd = args.f32(5, "rstd");
  int64_t rows = args.dim(6, "rows"), cols = args.dim(7, "cols");
  double eps = epsilon(args, 8);
  if (rows > 0 && cols == 0) args.rangeError("argument 'cols' must be at least 1: an empty row has no mean");
  uint64_t size = uint64_t(rows) * uint64_t(cols);
  args.requireLength(x, size, "rows x cols");
  args.requireLength(y, size, "rows x cols");
  args.requireLength(gamma, cols, "cols");
  args.requireLength(beta, cols, "cols");
  args.requireLength(mean, rows, "rows");
  args.requireLength(rstd, rows, "rows");
  requireOutputsDisjoint(args, {&y, &mean, &rstd}, {&x, &gamma, &beta});
  kernels::layerNormForward(x.data, gamma.data, beta.data, y.data, mean.data, rstd.data, rows, cols, eps);
}

// The argument list of both backward passes; statistics have `statistics` elements (rows for
// LayerNorm, cols for BatchNorm).
struct NormBackward {
  View<float> x, gamma, mean, rstd, dy, dx, dgamma, dbeta;
  int64_t rows, cols;
};

NormBackward normBackward(const Args& args, bool perColumn) {
  NormBackward b{args.f32(0, "x"),    args.f32(1, "gamma"), args.f32(2, "mean"),   args.f32(3, "rstd"),
                 args.f32(4, "dy"),   args.f32(5, "dx"),    args.f32(6, "dgamma"), args.f32(7, "dbeta"),
                 args.dim(8, "rows"), args.dim(9, "cols")};
  requireColumns(args, b.rows, b.cols);
  uint64_t size = uint64_t(b.rows) * uint64_t(b.cols);
  args.requireLength(b.x, size, "rows x cols");
  args.requireLength(b.dy, size, "rows x cols");
  args.requireLength(b.dx, size, "rows x cols");
  args.requireLength(b.gamma, b.cols, "cols");
  args.requireLength(b.dgamma, b.cols, "cols");
  args.requireLength(b.dbeta, b.cols, "cols");
  const char* statistics = perColumn ? "cols" : "rows";
  args.requireLength(b.mean, perColumn ? b.cols : b.rows, statistics);
  args.requireLength(b.rstd, perColumn ? b.cols : b.rows, statistics);
  requireOutputsDisjoint(args, {&b.dx, &b.dgamma, &b.dbeta}, {&b.x, &b.gamma, &b.mean, &b.rstd, &b.dy});
  return b;
}

// layerNormBackward(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, cols)
void LayerNormBackward(const Napi::CallbackInfo& info) {
  Args args(info, "layerNormBackward", 10);
  auto b = normBackward(args, false);
  kernels::layerNormBackward(b.x.data, b.gamma.data, b.mean.data, b.rstd.data, b.dy.data, b.dx.data, b.dgamma.data,
                             b.dbeta.data, b.rows, b.cols);
}

// batchNormForward(x, gamma, beta, y, mean, rstd, runningMean, runningVar, rows, cols, eps, momentum, training)
void BatchNormForward(const Napi::CallbackInfo& info) {
  Args args(info, "batchNormForward", 13);
  auto x = args.f32(0, "x"), gamma = args.f32(1, "gamma"), beta = args.f32(2, "beta");
  auto y = args.f32(3, "y"), mean = args.f32(4, "mean"), rstd = args.f32(5, "rstd");
  auto runningMean = args.f32(6, "runningMean"), runningVar = args.f32(7, "runningVar");
  int64_t rows = args.dim(8, "rows"), cols = args.dim(9, "cols");
  double eps = epsilon(args, 10);
  double momentum = args.number(11, "momentum");
  bool training = args.boolean(12, "training");
  requireColumns(args, rows, cols);
  if (momentum < 0 || momentum > 1)
    args.rangeError("argument 'momentum' must be in [0, 1], got " + std::to_string(momentum));
  // PyTorch refuses this too: one row has no unbiased variance for the running statistics.
  if (training && rows < 2 && cols > 0)
    args.rangeError("training needs at least 2 rows for batch statistics, got rows = " + std::to_string(rows));
  uint64_t size = uint64_t(rows) * uint64_t(cols);
  args.requireLength(x, size, "rows x cols");
  args.requireLength(y, size, "rows x cols");
  for (auto v : {&gamma, &beta, &mean, &rstd, &runningMean, &runningVar}) args.requireLength(*v, cols, "cols");
  requireOutputsDisjoint(args, {&y, &mean, &rstd, &runningMean, &runningVar}, {&x, &gamma, &beta});
  kernels::batchNormForward(x.data, gamma.data, beta.data, y.data, mean.data, rstd.data, runningMean.data,
                            runningVar.data, rows, cols, eps, momentum, training);
}

// batchNormBackward(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, cols)
void BatchNormBackward(const Napi::CallbackInfo& info) {
  Args args(info, "batchNormBackward", 10);
  auto b = normBackward(args, true);
  kernels::batchNormBackward(b.x.data, b.gamma.data, b.mean.data, b.rstd.data, b.dy.data, b.dx.data, b.dgamma.data,
                             b.dbeta.data, b.rows, b.cols);
}

}  // namespace

void registerNormalization(Napi::Env env, Napi::Object exports) {
  exports.Set("layerNormForward", Napi::Function::New(env, LayerNormForward, "layerNormForward"));
  exports.Set("layerNormBackward", Napi::Function::New(env, LayerNormBackward, "layerNormBackward"));
  exports.Set("batchNormForward", Napi::Function::New(env, BatchNormForward, "batchNormForward"));
  exports.Set("batchNormBackward", Napi::Function::New(env, BatchNormBackward, "batchNormBackward"));
}

}  // namespace fcnn::binding
