#include "kernels/activations.h"
#include "binding/args.h"
#include "binding/register.h"

namespace fcnn::binding {

namespace {

kernels::Activation activationKind(const Args& args, size_t i) {
  int64_t code = args.dim(i, "kind");
  if (code >= kernels::kActivationCount)
    args.rangeError("argument 'kind' must be an ActivationCode from 0 to " +
                    std::to_string(kernels::kActivationCount - 1) + ", got " + std::to_string(code));
  return kernels::Activation(code);
}

// activationForward(kind, alpha, z, a, n)
void ActivationForward(const Napi::CallbackInfo& info) {
  Args args(info, "activationForward", 5);
  auto kind = activationKind(args, 0);
  double alpha = args.number(1, "alpha");
  auto z = args.f32(2, "z");
  auto a = args.f32(3, "a");
  int64_t n = args.dim(4, "n");
  args.requireLength(z, n, "n");
  args.requireLength(a, n, "n");
  args.requireDisjoint(a, z);
  kernels::activationForward(kind, float(alpha), z.data, a.data, size_t(n));
}

// activationBackward(kind, alpha, z, a, da, dz, n)
void ActivationBackward(const Napi::CallbackInfo& info) {
  Args args(info, "activationBackward", 7);
  auto kind = activationKind(args, 0);
  double alpha = args.number(1, "alpha");
  auto z = args.f32(2, "z");
  auto a = args.f32(3, "a");
  auto da = args.f32(4, "da");
  auto dz = args.f32(5, "dz");
  int64_t n = args.dim(6, "n");
  args.requireLength(z, n, "n");
  args.requireLength(a, n, "n");
  args.requireLength(da, n, "n");
  args.requireLength(dz, n, "n");
  args.requireDisjoint(dz, z);
  args.requireDisjoint(dz, a);
  args.requireDisjoint(dz, da);
  kernels::activationBackward(kind, float(alpha), z.data, a.data, da.data, dz.data, size_t(n));
}

}  // namespace

void registerActivations(Napi::Env env, Napi::Object exports) {
  exports.Set("activationForward", Napi::Function::New(env, ActivationForward, "activationForward"));
  exports.Set("activationBackward", Napi::Function::New(env, ActivationBackward, "activationBackward"));
}

}  // namespace fcnn::binding
