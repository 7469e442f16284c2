// Each binding file adds its functions to the exports object; addon.cc calls them all.
#pragma once

#include <napi.h>

namespace fcnn::binding {

void registerGemm(Napi::Env env, Napi::Object exports);           // gemm.cc
void registerActivations(Napi::Env env, Napi::Object exports);    // activations.cc
void registerLosses(Napi::Env env, Napi::Object exports);         // losses.cc
void registerNormalization(Napi::Env env, Napi::Object exports);  // normalization.cc
void registerOptimizers(Napi::Env env, Napi::Object exports);     // optimizers.cc
void registerReductions(Napi::Env env, Napi::Object exports);     // reductions.cc
void registerGather(Napi::Env env, Napi::Object exports);         // gather.cc
void registerMemory(Napi::Env env, Napi::Object exports);         // memory.cc

}  // namespace fcnn::binding
