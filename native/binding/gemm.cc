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
  exports.Set("fmaPeak", Napi::Function::New(env, fmaPeak, "fmaPeak"));
}

}  // namespace fcnn::binding
