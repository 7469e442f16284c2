#include "binding/args.h"

#include <cmath>

namespace fcnn::binding {

namespace {
constexpr int64_t kMaxDim = 2147483647;  // 2^31 - 1
}

Args::Args(const Napi::CallbackInfo& info, const char* fn, size_t count, size_t optional) : info_(info), fn_(fn) {
  size_t n = info.Length();
  if (n < count || n > count + optional) {
    std::string expected =
        optional ? std::to_string(count) + " to " + std::to_string(count + optional) : std::to_string(count);
    typeError("expected " + expected + " arguments, got " + std::to_string(n));
  }
}

bool Args::absent(size_t i) const { return i >= info_.Length() || info_[i].IsUndefined() || info_[i].IsNull(); }

void Args::typeError(const std::string& message) const {
  throw Napi::TypeError::New(env(), std::string(fn_) + ": " + message);
}

void Args::rangeError(const std::string& message) const {
  throw Napi::RangeError::New(env(), std::string(fn_) + ": " + message);
}

bool Args::boolean(size_t i, const char* name) const {
  if (i >= info_.Length() || !info_[i].IsBoolean()) typeError(std::string("argument '") + name + "' must be a boolean");
  return info_[i].As<Napi::Boolean>().Value();
}

double Args::number(size_t i, const char* name) const {
  if (i >= info_.Length() || !info_[i].IsNumber()) typeError(std::string("argument '") + name + "' must be a number");
  double v = info_[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v)) rangeError(std::string("argument '") + name + "' must be finite, got " + std::to_string(v));
  return v;
}

int64_t Args::dim(size_t i, const char* name) const {
  if (i >= info_.Length() || !info_[i].IsNumber())
    typeError(std::string("argument '") + name + "' must be a non-negative integer");
  double v = info_[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0) || v != std::floor(v) || v > double(kMaxDim))
    rangeError(std::string("argument '") + name + "' must be an integer in [0, 2^31 - 1], got " +
               Napi::Value(info_[i]).ToString().Utf8Value());
  return int64_t(v);
}

template <typename T>
View<T> Args::typed(size_t i, const char* name, napi_typedarray_type type, const char* typeName) const {
  if (i >= info_.Length() || !info_[i].IsTypedArray() || info_[i].As<Napi::TypedArray>().TypedArrayType() != type)
    typeError(std::string("argument '") + name + "' must be a " + typeName);
  auto array = info_[i].As<Napi::TypedArrayOf<T>>();
  return View<T>{array.Data(), array.ElementLength(), name};
}

View<float> Args::f32(size_t i, const char* name) const {
  return typed<float>(i, name, napi_float32_array, "Float32Array");
}
View<int32_t> Args::i32(size_t i, const char* name) const {
  return typed<int32_t>(i, name, napi_int32_array, "Int32Array");
}
View<uint8_t> Args::u8(size_t i, const char* name) const {
  return typed<uint8_t>(i, name, napi_uint8_array, "Uint8Array");
}
View<uint16_t> Args::u16(size_t i, const char* name) const {
  return typed<uint16_t>(i, name, napi_uint16_array, "Uint16Array");
}
bool Args::is(size_t i, napi_typedarray_type type) const {
  return i < info_.Length() && info_[i].IsTypedArray() && info_[i].As<Napi::TypedArray>().TypedArrayType() == type;
}
View<uint8_t> Args::bytes(size_t i, const char* name) const {
  if (i >= info_.Length() || !info_[i].IsTypedArray())
    typeError(std::string("argument '") + name + "' must be a typed array");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_status status = napi_get_typedarray_info(env(), info_[i], &type, &length, &data, nullptr, nullptr);
  if (status != napi_ok) typeError(std::string("argument '") + name + "' must be a typed array");
  return View<uint8_t>{static_cast<uint8_t*>(data), length * info_[i].As<Napi::TypedArray>().ElementSize(), name};
}

View<double> Args::f64(size_t i, const char* name) const {
  return typed<double>(i, name, napi_float64_array, "Float64Array");
}

void Args::lengthError(const char* name, size_t have, uint64_t needed, std::string_view what) const {
  rangeError(std::string("argument '") + name + "' has " + std::to_string(have) + " elements but needs " +
             std::to_string(needed) + (what.empty() ? std::string() : " (" + std::string(what) + ")"));
}

void Args::ldError(const char* ldName, int64_t ld, int64_t cols) const {
  rangeError(std::string("argument '") + ldName + "' (" + std::to_string(ld) + ") must be at least the row width " +
             std::to_string(cols));
}

void Args::aliasError(const char* a, const char* b) const {
  typeError(std::string("arguments '") + a + "' and '" + b + "' must not overlap in memory");
}

std::string Args::shape(int64_t rows, int64_t cols, int64_t ld, const char* ldName) {
  return std::to_string(rows) + "x" + std::to_string(cols) + " with " + ldName + " " + std::to_string(ld);
}

}  // namespace fcnn::binding
