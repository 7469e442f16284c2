#include "binding/args.h"
#include "binding/register.h"

namespace fcnn::binding {

void registerActivations(Napi::Env, Napi::Object) {}

}  // namespace fcnn::binding
