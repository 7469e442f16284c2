#include <new>
#include <stdexcept>
#include <string>

#include "binding/args.h"
#include "binding/register.h"
#include "kernels/cpu.h"
#include "kernels/gemm.h"
#include "kernels/peak.h"

namespace fcnn::binding {

namespace {

Napi::Value isa(const Napi::CallbackInfo& info) {
  Args args(info, "isa", 0);
  return Napi::String::New(args.env(), activeMicroKernel().isa);
}

Napi::Value availableIsas(const Napi::CallbackInfo& info) {
  Args args(info, "availableIsas", 0);
  const std::vector<const ukr::MicroKernel*> kernels = availableMicroKernels();
  Napi::Array names = Napi::Array::New(args.env(), kernels.size());
  for (uint32_t i = 0; i < kernels.size(); i++) names.Set(i, Napi::String::New(args.env(), kernels[i]->isa));
  return names;
}

void sgemm(const Napi::CallbackInfo& info) {
  Args args(info, "sgemm", 13, 1);
  const bool transA = args.boolean(0, "transA");
  const bool transB = args.boolean(1, "transB");
  const int64_t m = args.dim(2, "m"), n = args.dim(3, "n"), k = args.dim(4, "k");
  const double alpha = args.number(5, "alpha");
  const View<float> a = args.f32(6, "a");
  const int64_t lda = args.dim(7, "lda");
  const View<float> b = args.f32(8, "b");
  const int64_t ldb = args.dim(9, "ldb");
  const double beta = args.number(10, "beta");
  const View<float> c = args.f32(11, "c");
  const int64_t ldc = args.dim(12, "ldc");
  const bool hasBias = !args.absent(13);
  const View<float> bias = hasBias ? args.f32(13, "bias") : View<float>{};

  args.requireMatrix(a, transA ? k : m, transA ? m : k, lda, "lda");
  args.requireMatrix(b, transB ? n : k, transB ? k : n, ldb, "ldb");
  args.requireMatrix(c, m, n, ldc, "ldc");
  if (hasBias) args.requireLength(bias, uint64_t(n), "n");
  args.requireDisjoint(c, a);
  args.requireDisjoint(c, b);
  if (hasBias) args.requireDisjoint(c, bias);

  try {
    fcnn::sgemm(transA, transB, m, n, k, float(alpha), a.data, lda, b.data, ldb, float(beta), c.data, ldc,
                hasBias ? bias.data : nullptr);
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(args.env(), "sgemm: out of memory for the packing buffers");
  }
}

// The micro-kernel reads B panels with aligned vector loads: packed op(B) starts on a cache line.
constexpr uintptr_t kPackedAlignment = 64;

Napi::Value packedBSize(const Napi::CallbackInfo& info) {
  Args args(info, "packedBSize", 2);
  const int64_t n = args.dim(0, "n"), k = args.dim(1, "k");
  return Napi::Number::New(args.env(), double(fcnn::packedBSize(n, k)));
}

Napi::Value packedBAlignment(const Napi::CallbackInfo& info) {
  Args args(info, "packedBAlignment", 0);
  return Napi::Number::New(args.env(), double(fcnn::packedBAlignment()));
}

Napi::Value alignmentGap(const Napi::CallbackInfo& info) {
  Args args(info, "alignmentGap", 1);
  const View<float> x = args.f32(0, "x");
  const uintptr_t address = reinterpret_cast<uintptr_t>(x.data);
  return Napi::Number::New(args.env(), double((kPackedAlignment - address % kPackedAlignment) % kPackedAlignment / sizeof(float)));
}

void requirePacked(const Args& args, const View<float>& packed, int64_t n, int64_t k) {
  args.requireLength(packed, uint64_t(fcnn::packedBSize(n, k)), "packedBSize(n, k)");
  if (reinterpret_cast<uintptr_t>(packed.data) % kPackedAlignment != 0)
    args.rangeError("argument 'packed' must start on a 64-byte boundary (skip alignmentGap(packed) floats)");
}

void packB(const Napi::CallbackInfo& info) {
  Args args(info, "packB", 10);
  const bool transB = args.boolean(0, "transB");
  const int64_t n = args.dim(1, "n"), k = args.dim(2, "k");
  const View<float> b = args.f32(3, "b");
  const int64_t ldb = args.dim(4, "ldb");
  const int64_t lane0 = args.dim(5, "lane0"), lane1 = args.dim(6, "lane1");
  const int64_t depth0 = args.dim(7, "depth0"), depth1 = args.dim(8, "depth1");
  const View<float> packed = args.f32(9, "packed");

  args.requireMatrix(b, transB ? n : k, transB ? k : n, ldb, "ldb");
  requirePacked(args, packed, n, k);
  args.requireDisjoint(packed, b);
  if (!(lane0 <= lane1 && lane1 <= n))
    args.rangeError("lanes [" + std::to_string(lane0) + ", " + std::to_string(lane1) + ") must lie within [0, n = " + std::to_string(n) + ")");
  if (!(depth0 <= depth1 && depth1 <= k))
    args.rangeError("depths [" + std::to_string(depth0) + ", " + std::to_string(depth1) + ") must lie within [0, k = " + std::to_string(k) + ")");
  const int64_t align = fcnn::packedBAlignment();
  if (lane0 % align != 0 || (lane1 % align != 0 && lane1 != n))
    args.rangeError("lanes [" + std::to_string(lane0) + ", " + std::to_string(lane1) + ") must start and end on multiples of " +
                    std::to_string(align) + " (packedBAlignment()), or end at n = " + std::to_string(n));
  fcnn::packB(transB, n, k, b.data, ldb, lane0, lane1, depth0, depth1, packed.data);
}

void sgemmPackedB(const Napi::CallbackInfo& info) {
  Args args(info, "sgemmPackedB", 11, 1);
  const bool transA = args.boolean(0, "transA");
  const int64_t m = args.dim(1, "m"), n = args.dim(2, "n"), k = args.dim(3, "k");
  const double alpha = args.number(4, "alpha");
  const View<float> a = args.f32(5, "a");
  const int64_t lda = args.dim(6, "lda");
  const View<float> packed = args.f32(7, "packed");
  const double beta = args.number(8, "beta");
  const View<float> c = args.f32(9, "c");
  const int64_t ldc = args.dim(10, "ldc");
  const bool hasBias = !args.absent(11);
  const View<float> bias = hasBias ? args.f32(11, "bias") : View<float>{};

  args.requireMatrix(a, transA ? k : m, transA ? m : k, lda, "lda");
  requirePacked(args, packed, n, k);
  args.requireMatrix(c, m, n, ldc, "ldc");
  if (hasBias) args.requireLength(bias, uint64_t(n), "n");
  args.requireDisjoint(c, a);
  args.requireDisjoint(c, packed);
  if (hasBias) args.requireDisjoint(c, bias);

  try {
    fcnn::sgemmPackedB(transA, m, n, k, float(alpha), a.data, lda, packed.data, float(beta), c.data, ldc,
                       hasBias ? bias.data : nullptr);
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(args.env(), "sgemmPackedB: out of memory for the packing buffer");
  }
}

Napi::Value fmaPeak(const Napi::CallbackInfo& info) {
  Args args(info, "fmaPeak", 2);
  if (!info[0].IsString()) args.typeError("argument 'isa' must be a string");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  const double seconds = args.number(1, "seconds");
  if (!(seconds > 0 && seconds <= 60)) args.rangeError("argument 'seconds' must be in (0, 60], got " + std::to_string(seconds));
  std::string supported;
  for (const ukr::MicroKernel* kernel : availableMicroKernels()) {
    if (name == kernel->isa) return Napi::Number::New(args.env(), fcnn::fmaPeak(*kernel, seconds));
    supported += (supported.empty() ? "" : ", ") + std::string(kernel->isa);
  }
  args.rangeError("argument 'isa' must be an ISA this CPU supports (" + supported + "), got '" + name + "'");
}

}  // namespace

void registerGemm(Napi::Env env, Napi::Object exports) {
  // Choose the micro-kernel now, so that a bad FCNN_ISA fails the load rather than the first product.
  try {
    activeMicroKernel();
  } catch (const std::runtime_error& error) {
    throw Napi::Error::New(env, error.what());
  }
  exports.Set("isa", Napi::Function::New(env, isa, "isa"));
  exports.Set("availableIsas", Napi::Function::New(env, availableIsas, "availableIsas"));
  exports.Set("sgemm", Napi::Function::New(env, sgemm, "sgemm"));
  exports.Set("packedBSize", Napi::Function::New(env, packedBSize, "packedBSize"));
  exports.Set("packedBAlignment", Napi::Function::New(env, packedBAlignment, "packedBAlignment"));
  exports.Set("alignmentGap", Napi::Function::New(env, alignmentGap, "alignmentGap"));
  exports.Set("packB", Napi::Function::New(env, packB, "packB"));
  exports.Set("sgemmPackedB", Napi::Function::New(env, sgemmPackedB, "sgemmPackedB"));
  exports.Set("fmaPeak", Napi::Function::New(env, fmaPeak, "fmaPeak"));
}

}  // namespace fcnn::binding
