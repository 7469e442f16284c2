#include "kernels/memory.h"
#include "binding/args.h"
#include "binding/register.h"

namespace fcnn::binding {

namespace {

// adviseHugePages(x) -> whether the advice was given
Napi::Value AdviseHugePages(const Napi::CallbackInfo& info) {
  Args args(info, "adviseHugePages", 1);
  auto x = args.bytes(0, "x");
  return Napi::Boolean::New(args.env(), kernels::adviseHugePages(x.data, x.length));
}

}  // namespace

void registerMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("adviseHugePages", Napi::Function::New(env, AdviseHugePages, "adviseHugePages"));
}

}  // namespace fcnn::binding
