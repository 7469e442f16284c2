// The one place where JavaScript values become C++ pointers and sizes.
// Every exported function reads its arguments through Args, so that each check (count, type,
// integer dimension, array length, aliasing) is written once and its message names the
// function and the argument. Kernels below this layer assume their input is valid.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fcnn::binding {

template <typename T>
struct View {
  T* data = nullptr;
  size_t length = 0;  // in elements
  const char* name = "";
};

class Args {
 public:
  // Throws TypeError unless exactly `count` arguments were passed (`optional` more may follow).
  Args(const Napi::CallbackInfo& info, const char* fn, size_t count, size_t optional = 0);

  Napi::Env env() const { return info_.Env(); }
  size_t size() const { return info_.Length(); }
  // True when argument i was not passed, or is undefined or null.
  bool absent(size_t i) const;

  bool boolean(size_t i, const char* name) const;
  // A finite number.
  double number(size_t i, const char* name) const;
  // A non-negative integer no larger than 2^31 - 1 (dimensions, counts, leading dimensions).
  int64_t dim(size_t i, const char* name) const;

  View<float> f32(size_t i, const char* name) const;
  View<int32_t> i32(size_t i, const char* name) const;
  View<uint8_t> u8(size_t i, const char* name) const;
  View<uint16_t> u16(size_t i, const char* name) const;
  View<double> f64(size_t i, const char* name) const;
  // Whether argument i is a typed array of the given element type (false for anything else).
  bool is(size_t i, napi_typedarray_type type) const;
  // Any typed array, as the bytes it spans.
  View<uint8_t> bytes(size_t i, const char* name) const;

  // RangeError unless the array holds at least `needed` elements; `what` explains the size.
  template <typename T>
  void requireLength(const View<T>& v, uint64_t needed, std::string_view what) const {
    if (v.length < needed) lengthError(v.name, v.length, needed, what);
  }
  // A row-major rows x cols matrix with leading dimension ld: checks ld >= cols and the length.
  template <typename T>
  void requireMatrix(const View<T>& v, int64_t rows, int64_t cols, int64_t ld, const char* ldName) const {
    if (ld < cols) ldError(ldName, ld, cols);
    // The message is built only on failure: this runs on every GEMM call.
    uint64_t needed = matrixLength(rows, cols, ld);
    if (v.length < needed) lengthError(v.name, v.length, needed, shape(rows, cols, ld, ldName));
  }
  // TypeError when the byte ranges of two arrays overlap (an output that must not alias an input).
  template <typename A, typename B>
  void requireDisjoint(const View<A>& a, const View<B>& b) const {
    auto a0 = reinterpret_cast<uintptr_t>(a.data), a1 = a0 + a.length * sizeof(A);
    auto b0 = reinterpret_cast<uintptr_t>(b.data), b1 = b0 + b.length * sizeof(B);
    if (a.length && b.length && a0 < b1 && b0 < a1) aliasError(a.name, b.name);
  }

  static uint64_t matrixLength(int64_t rows, int64_t cols, int64_t ld) {
    return rows == 0 || cols == 0 ? 0 : uint64_t(rows - 1) * uint64_t(ld) + uint64_t(cols);
  }

  [[noreturn]] void typeError(const std::string& message) const;
  [[noreturn]] void rangeError(const std::string& message) const;

 private:
  template <typename T>
  View<T> typed(size_t i, const char* name, napi_typedarray_type type, const char* typeName) const;
  [[noreturn]] void lengthError(const char* name, size_t have, uint64_t needed, std::string_view what) const;
  [[noreturn]] void ldError(const char* ldName, int64_t ld, int64_t cols) const;
  [[noreturn]] void aliasError(const char* a, const char* b) const;
  static std::string shape(int64_t rows, int64_t cols, int64_t ld, const char* ldName);

  const Napi::CallbackInfo& info_;
  const char* fn_;
};

}  // namespace fcnn::binding
