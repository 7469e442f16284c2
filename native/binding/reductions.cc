#include "kernels/reductions.h"
#include "binding/args.h"
#include "binding/register.h"

namespace fcnn::binding {

namespace {

// columnSums(x, rows, cols, out, beta)
void ColumnSums(const Napi::CallbackInfo& info) {
  Args args(info, "columnSums", 5);
  auto x = args.f32(0, "x");
  int64_t rows = args.dim(1, "rows"), cols = args.dim(2, "cols");
  auto out = args.f32(3, "out");
  double beta = args.number(4, "beta");
  args.requireLength(x, uint64_t(rows) * uint64_t(cols), "rows x cols");
  args.requireLength(out, cols, "cols");
  args.requireDisjoint(out, x);
  kernels::columnSums(x.data, rows, cols, out.data, float(beta));
}

// reduceSlots(slots, count, stride, begin, end) -> max |sum|
Napi::Value ReduceSlots(const Napi::CallbackInfo& info) {
  Args args(info, "reduceSlots", 5);
  auto slots = args.f32(0, "slots");
  int64_t count = args.dim(1, "count"), stride = args.dim(2, "stride");
  int64_t begin = args.dim(3, "begin"), end = args.dim(4, "end");
  if (count == 0) args.rangeError("argument 'count' must be at least 1: slot 0 receives the sum");
  if (begin > end)
    args.rangeError("argument 'begin' (" + std::to_string(begin) + ") is after 'end' (" + std::to_string(end) + ")");
  if (stride < end)
    args.rangeError("argument 'stride' (" + std::to_string(stride) + ") must be at least 'end' (" +
                    std::to_string(end) + "): slots would overlap");
  args.requireLength(slots, Args::matrixLength(count, end, stride), "(count - 1) x stride + end");
  return Napi::Number::New(args.env(), kernels::reduceSlots(slots.data, count, stride, begin, end));
}

// maxAbs(x, n) -> max |x[i]|
Napi::Value MaxAbs(const Napi::CallbackInfo& info) {
  Args args(info, "maxAbs", 2);
  auto x = args.f32(0, "x");
  int64_t n = args.dim(1, "n");
  args.requireLength(x, n, "n");
  return Napi::Number::New(args.env(), kernels::maxAbs(x.data, n));
}

// sumSquares(x, n) -> Σ x[i]²
Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  Args args(info, "sumSquares", 2);
  auto x = args.f32(0, "x");
  int64_t n = args.dim(1, "n");
  args.requireLength(x, n, "n");
  return Napi::Number::New(args.env(), kernels::sumSquares(x.data, n));
}

// scale(x, n, s)
void Scale(const Napi::CallbackInfo& info) {
  Args args(info, "scale", 3);
  auto x = args.f32(0, "x");
  int64_t n = args.dim(1, "n");
  double s = args.number(2, "s");
  args.requireLength(x, n, "n");
  kernels::scale(x.data, n, float(s));
}

}  // namespace

void registerReductions(Napi::Env env, Napi::Object exports) {
  exports.Set("columnSums", Napi::Function::New(env, ColumnSums, "columnSums"));
  exports.Set("reduceSlots", Napi::Function::New(env, ReduceSlots, "reduceSlots"));
  exports.Set("maxAbs", Napi::Function::New(env, MaxAbs, "maxAbs"));
  exports.Set("sumSquares", Napi::Function::New(env, SumSquares, "sumSquares"));
  exports.Set("scale", Napi::Function::New(env, Scale, "scale"));
}

}  // namespace fcnn::binding
