#include <initializer_list>

#include "binding/args.h"
#include "binding/register.h"
#include "kernels/optimizers.h"

namespace fcnn::binding {

namespace {

// Every state array (grads, velocity, m, v) must match params in length and overlap nothing else.
void requireParallel(const Args& args, const View<float>& params, std::initializer_list<const View<float>*> state) {
  for (auto s = state.begin(); s != state.end(); ++s) {
    if ((*s)->length != params.length)
      args.rangeError(std::string("argument '") + (*s)->name + "' has " + std::to_string((*s)->length) +
                      " elements but 'params' has " + std::to_string(params.length) + "; they must be equal");
    args.requireDisjoint(params, **s);
    for (auto t = s + 1; t != state.end(); ++t) args.requireDisjoint(**s, **t);
  }
}

double unitInterval(const Args& args, size_t i, const char* name) {
  double v = args.number(i, name);
  if (v < 0 || v >= 1)
    args.rangeError(std::string("argument '") + name + "' must be in [0, 1), got " + std::to_string(v));
  return v;
}

// sgdStep(params, grads, lr, weightDecay)
void SgdStep(const Napi::CallbackInfo& info) {
  Args args(info, "sgdStep", 4);
  auto params = args.f32(0, "params"), grads = args.f32(1, "grads");
  double lr = args.number(2, "lr"), weightDecay = args.number(3, "weightDecay");
  requireParallel(args, params, {&grads});
  kernels::sgdStep(params.data, grads.data, params.length, float(lr), float(weightDecay));
}

// momentumStep(params, grads, velocity, lr, momentum, weightDecay, nesterov)
void MomentumStep(const Napi::CallbackInfo& info) {
  Args args(info, "momentumStep", 7);
  auto params = args.f32(0, "params"), grads = args.f32(1, "grads"), velocity = args.f32(2, "velocity");
  double lr = args.number(3, "lr"), momentum = args.number(4, "momentum"), weightDecay = args.number(5, "weightDecay");
  bool nesterov = args.boolean(6, "nesterov");
  requireParallel(args, params, {&grads, &velocity});
  kernels::momentumStep(params.data, grads.data, velocity.data, params.length, float(lr), float(momentum),
                        float(weightDecay), nesterov);
}

// adamStep(params, grads, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step)
void AdamStep(const Napi::CallbackInfo& info) {
  Args args(info, "adamStep", 11);
  auto params = args.f32(0, "params"), grads = args.f32(1, "grads"), m = args.f32(2, "m"), v = args.f32(3, "v");
  double lr = args.number(4, "lr");
  // β = 1 would make the bias correction 1 − β^t zero.
  double beta1 = unitInterval(args, 5, "beta1"), beta2 = unitInterval(args, 6, "beta2");
  double eps = args.number(7, "eps"), weightDecay = args.number(8, "weightDecay");
  if (eps < 0) args.rangeError("argument 'eps' must be at least 0, got " + std::to_string(eps));
  bool decoupled = args.boolean(9, "decoupled");
  int64_t step = args.dim(10, "step");
  if (step < 1) args.rangeError("argument 'step' counts from 1, got 0");
  requireParallel(args, params, {&grads, &m, &v});
  kernels::adamStep(params.data, grads.data, m.data, v.data, params.length, float(lr), beta1, beta2, float(eps),
                    float(weightDecay), decoupled, double(step));
}

}  // namespace

void registerOptimizers(Napi::Env env, Napi::Object exports) {
  exports.Set("sgdStep", Napi::Function::New(env, SgdStep, "sgdStep"));
  exports.Set("momentumStep", Napi::Function::New(env, MomentumStep, "momentumStep"));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep, "adamStep"));
}

}  // namespace fcnn::binding
