#include "binding/args.h"
#include "binding/register.h"

namespace fcnn::binding {

void registerGather(Napi::Env, Napi::Object) {}

}  // namespace fcnn::binding
