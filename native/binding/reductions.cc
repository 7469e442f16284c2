#include "binding/args.h"
#include "binding/register.h"

namespace fcnn::binding {

void registerReductions(Napi::Env, Napi::Object) {}

}  // namespace fcnn::binding
