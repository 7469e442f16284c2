// Module entry. Node-API modules are context-aware: Init runs once per environment (the main
// thread and every worker thread), and nothing here keeps per-environment state.
#include <napi.h>

#include "binding/register.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace fcnn::binding;
  registerGemm(env, exports);
  registerActivations(env, exports);
  registerLosses(env, exports);
  registerNormalization(env, exports);
  registerOptimizers(env, exports);
  registerReductions(env, exports);
  registerGather(env, exports);
  registerMemory(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(fcnn, Init)
