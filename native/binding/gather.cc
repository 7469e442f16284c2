#include "kernels/gather.h"
#include "binding/args.h"
#include "binding/register.h"

namespace fcnn::binding {

namespace {

// The kernels stop at the first index outside the dataset and return its position r (count when
// all are valid); the message names the position in `indices` and its value.
void requireIndices(const Args& args, const View<int32_t>& indices, int64_t start, int64_t count, size_t bad,
                    size_t available, const char* what) {
  if (bad < size_t(count))
    args.rangeError("indices[" + std::to_string(start + int64_t(bad)) +
                    "] = " + std::to_string(indices.data[start + bad]) + " is outside the " +
                    std::to_string(available) + " " + what);
}

template <typename Feature>
void gatherRowsOf(const Args& args, const View<Feature>& images) {
  int64_t width = args.dim(1, "width");
  auto indices = args.i32(2, "indices");
  int64_t start = args.dim(3, "start"), count = args.dim(4, "count");
  auto out = args.f32(5, "out");
  double scale = args.number(6, "scale");
  bool hasMean = !args.absent(7), hasInvStd = !args.absent(8);
  View<float> mean, invStd;
  if (hasMean) mean = args.f32(7, "mean");
  if (hasInvStd) invStd = args.f32(8, "invStd");
  if (width == 0) args.rangeError("argument 'width' must be at least 1");
  args.requireLength(indices, uint64_t(start) + uint64_t(count), "start + count");
  args.requireLength(out, uint64_t(count) * uint64_t(width), "count x width");
  if (hasMean) args.requireLength(mean, width, "width");
  if (hasInvStd) args.requireLength(invStd, width, "width");
  args.requireDisjoint(out, images);
  args.requireDisjoint(out, indices);
  args.requireDisjoint(out, mean);
  args.requireDisjoint(out, invStd);
  size_t imageCount = images.length / size_t(width);
  size_t bad = kernels::gatherRows(images.data, imageCount, width, indices.data + start, count, out.data, float(scale),
                                   hasMean ? mean.data : nullptr, hasInvStd ? invStd.data : nullptr);
  requireIndices(args, indices, start, count, bad, imageCount, "images");
}

// gatherRows(images, width, indices, start, count, out, scale, mean?, invStd?); images: Uint8Array or Float32Array
void GatherRows(const Napi::CallbackInfo& info) {
  Args args(info, "gatherRows", 7, 2);
  if (args.is(0, napi_float32_array)) gatherRowsOf(args, args.f32(0, "images"));
  else gatherRowsOf(args, args.u8(0, "images"));
}

// prefetchRows(images, width, indices, start, count); images: Uint8Array or Float32Array
void PrefetchRows(const Napi::CallbackInfo& info) {
  Args args(info, "prefetchRows", 5);
  bool floats = args.is(0, napi_float32_array);
  auto images = floats ? args.bytes(0, "images") : args.u8(0, "images");
  int64_t width = args.dim(1, "width");
  auto indices = args.i32(2, "indices");
  int64_t start = args.dim(3, "start"), count = args.dim(4, "count");
  if (width == 0) args.rangeError("argument 'width' must be at least 1");
  args.requireLength(indices, uint64_t(start) + uint64_t(count), "start + count");
  size_t rowBytes = size_t(width) * (floats ? sizeof(float) : 1);
  kernels::prefetchRows(images.data, images.length / rowBytes, rowBytes, indices.data + start, count);
}

template <typename Label>
void gatherLabelsOf(const Args& args, const View<Label>& labels) {
  auto indices = args.i32(1, "indices");
  int64_t start = args.dim(2, "start"), count = args.dim(3, "count");
  auto out = args.i32(4, "out");
  args.requireLength(indices, uint64_t(start) + uint64_t(count), "start + count");
  args.requireLength(out, count, "count");
  args.requireDisjoint(out, labels);
  args.requireDisjoint(out, indices);
  size_t bad = kernels::gatherLabels(labels.data, labels.length, indices.data + start, count, out.data);
  requireIndices(args, indices, start, count, bad, labels.length, "labels");
}

// gatherLabels(labels, indices, start, count, out); labels: Uint8Array, Uint16Array or Int32Array
void GatherLabels(const Napi::CallbackInfo& info) {
  Args args(info, "gatherLabels", 5);
  if (args.is(0, napi_uint16_array)) gatherLabelsOf(args, args.u16(0, "labels"));
  else if (args.is(0, napi_int32_array)) gatherLabelsOf(args, args.i32(0, "labels"));
  else gatherLabelsOf(args, args.u8(0, "labels"));
}

}  // namespace

void registerGather(Napi::Env env, Napi::Object exports) {
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows, "gatherRows"));
  exports.Set("gatherLabels", Napi::Function::New(env, GatherLabels, "gatherLabels"));
  exports.Set("prefetchRows", Napi::Function::New(env, PrefetchRows, "prefetchRows"));
}

}  // namespace fcnn::binding
