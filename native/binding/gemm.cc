#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

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

Napi::Value bf16Kernel(const Napi::CallbackInfo& info) {
  Args args(info, "bf16Kernel", 0);
  return Napi::String::New(args.env(), activeBf16Kernel().name);
}

// One binding per precision of each GEMM function: the fp32 ones read and write Float32Array
// operands and packed B, the bf16 ones the same operands and a Uint16Array packed B.
struct Fp32Api {
  using elem = float;
  static constexpr const char *gemm = "sgemm", *gemmPacked = "sgemmPackedB", *pack = "packB",
                              *size = "packedBSize(n, k)", *alignment = "packedBAlignment()";
  static constexpr const char* alignmentHint = " (skip alignmentGap(packed) floats)";
  static View<float> packed(const Args& args, size_t i) { return args.f32(i, "packed"); }
  static constexpr auto gemmFn = &fcnn::sgemm;
  static constexpr auto gemmPackedFn = &fcnn::sgemmPackedB;
  static constexpr auto packFn = &fcnn::packB;
  static constexpr auto sizeFn = &fcnn::packedBSize;
  static constexpr auto alignmentFn = &fcnn::packedBAlignment;
  // Whether depth ranges of packB must start and end on a pair.
  static constexpr bool pairs = false;
};

struct Bf16Api {
  using elem = uint16_t;
  static constexpr const char *gemm = "gemmBf16", *gemmPacked = "gemmBf16PackedB", *pack = "packBBf16",
                              *size = "packedBSizeBf16(n, k)", *alignment = "packedBAlignmentBf16()";
  static constexpr const char* alignmentHint = "";
  static View<uint16_t> packed(const Args& args, size_t i) { return args.u16(i, "packed"); }
  static constexpr auto gemmFn = &fcnn::gemmBf16;
  static constexpr auto gemmPackedFn = &fcnn::gemmBf16PackedB;
  static constexpr auto packFn = &fcnn::packBBf16;
  static constexpr auto sizeFn = &fcnn::packedBSizeBf16;
  static constexpr auto alignmentFn = &fcnn::packedBAlignmentBf16;
  static constexpr bool pairs = true;
};

template <class Api>
void gemm(const Napi::CallbackInfo& info) {
  Args args(info, Api::gemm, 13, 1);
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
    Api::gemmFn(transA, transB, m, n, k, float(alpha), a.data, lda, b.data, ldb, float(beta), c.data, ldc,
                hasBias ? bias.data : nullptr);
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(args.env(), std::string(Api::gemm) + ": out of memory for the packing buffers");
  }
}

// The micro-kernel reads B panels with aligned vector loads: packed op(B) starts on a cache line.
constexpr uintptr_t kPackedAlignment = 64;

template <class Api>
Napi::Value packedBSize(const Napi::CallbackInfo& info) {
  // The JavaScript name is the size's text without its arguments.
  const std::string name(Api::size, std::string_view(Api::size).find('('));
  Args args(info, name.c_str(), 2);
  const int64_t n = args.dim(0, "n"), k = args.dim(1, "k");
  return Napi::Number::New(args.env(), double(Api::sizeFn(n, k)));
}

template <class Api>
Napi::Value packedBAlignment(const Napi::CallbackInfo& info) {
  const std::string name(Api::alignment, std::string_view(Api::alignment).find('('));
  Args args(info, name.c_str(), 0);
  return Napi::Number::New(args.env(), double(Api::alignmentFn()));
}

Napi::Value alignmentGap(const Napi::CallbackInfo& info) {
  Args args(info, "alignmentGap", 1);
  const View<float> x = args.f32(0, "x");
  const uintptr_t address = reinterpret_cast<uintptr_t>(x.data);
  // Exact: the gap between two float addresses is a whole number of floats.
  const uintptr_t gap = (kPackedAlignment - address % kPackedAlignment) % kPackedAlignment / sizeof(float);
  return Napi::Number::New(args.env(), double(gap));
}

template <class Api>
void requirePacked(const Args& args, const View<typename Api::elem>& packed, int64_t n, int64_t k) {
  args.requireLength(packed, uint64_t(Api::sizeFn(n, k)), Api::size);
  if (reinterpret_cast<uintptr_t>(packed.data) % kPackedAlignment != 0)
    args.rangeError(std::string("argument 'packed' must start on a 64-byte boundary") + Api::alignmentHint);
}

template <class Api>
void packB(const Napi::CallbackInfo& info) {
  Args args(info, Api::pack, 10, 1);
  const bool transB = args.boolean(0, "transB");
  const int64_t n = args.dim(1, "n"), k = args.dim(2, "k");
  const View<float> b = args.f32(3, "b");
  const int64_t ldb = args.dim(4, "ldb");
  const int64_t lane0 = args.dim(5, "lane0"), lane1 = args.dim(6, "lane1");
  const int64_t depth0 = args.dim(7, "depth0"), depth1 = args.dim(8, "depth1");
  const View<typename Api::elem> packed = Api::packed(args, 9);

  args.requireMatrix(b, transB ? n : k, transB ? k : n, ldb, "ldb");
  requirePacked<Api>(args, packed, n, k);
  args.requireDisjoint(packed, b);
  if (!(lane0 <= lane1 && lane1 <= n))
    args.rangeError("lanes [" + std::to_string(lane0) + ", " + std::to_string(lane1) +
                    ") must lie within [0, n = " + std::to_string(n) + ")");
  if (!(depth0 <= depth1 && depth1 <= k))
    args.rangeError("depths [" + std::to_string(depth0) + ", " + std::to_string(depth1) +
                    ") must lie within [0, k = " + std::to_string(k) + ")");
  if (Api::pairs && (depth0 % 2 != 0 || (depth1 % 2 != 0 && depth1 != k)))
    args.rangeError("depths [" + std::to_string(depth0) + ", " + std::to_string(depth1) +
                    ") must start and end on even depths (bf16 pairs), or end at k = " + std::to_string(k));
  const int64_t align = Api::alignmentFn();
  if (lane0 % align != 0 || (lane1 % align != 0 && lane1 != n))
    args.rangeError("lanes [" + std::to_string(lane0) + ", " + std::to_string(lane1) +
                    ") must start and end on multiples of " + std::to_string(align) + " (" + Api::alignment +
                    "), or end at n = " + std::to_string(n));
  const bool stream = !args.absent(10) && args.boolean(10, "stream");
  Api::packFn(transB, n, k, b.data, ldb, lane0, lane1, depth0, depth1, packed.data, stream);
}

template <class Api>
void gemmPackedB(const Napi::CallbackInfo& info) {
  Args args(info, Api::gemmPacked, 11, 1);
  const bool transA = args.boolean(0, "transA");
  const int64_t m = args.dim(1, "m"), n = args.dim(2, "n"), k = args.dim(3, "k");
  const double alpha = args.number(4, "alpha");
  const View<float> a = args.f32(5, "a");
  const int64_t lda = args.dim(6, "lda");
  const View<typename Api::elem> packed = Api::packed(args, 7);
  const double beta = args.number(8, "beta");
  const View<float> c = args.f32(9, "c");
  const int64_t ldc = args.dim(10, "ldc");
  const bool hasBias = !args.absent(11);
  const View<float> bias = hasBias ? args.f32(11, "bias") : View<float>{};

  args.requireMatrix(a, transA ? k : m, transA ? m : k, lda, "lda");
  requirePacked<Api>(args, packed, n, k);
  args.requireMatrix(c, m, n, ldc, "ldc");
  if (hasBias) args.requireLength(bias, uint64_t(n), "n");
  args.requireDisjoint(c, a);
  args.requireDisjoint(c, packed);
  if (hasBias) args.requireDisjoint(c, bias);

  try {
    Api::gemmPackedFn(transA, m, n, k, float(alpha), a.data, lda, packed.data, float(beta), c.data, ldc,
                      hasBias ? bias.data : nullptr);
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(args.env(), std::string(Api::gemmPacked) + ": out of memory for the packing buffer");
  }
}

Napi::Value fmaPeak(const Napi::CallbackInfo& info) {
  Args args(info, "fmaPeak", 2);
  if (!info[0].IsString()) args.typeError("argument 'isa' must be a string");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  const double seconds = args.number(1, "seconds");
  if (!(seconds > 0 && seconds <= 60))
    args.rangeError("argument 'seconds' must be in (0, 60], got " + std::to_string(seconds));
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
  exports.Set("bf16Kernel", Napi::Function::New(env, bf16Kernel, "bf16Kernel"));
  exports.Set("alignmentGap", Napi::Function::New(env, alignmentGap, "alignmentGap"));
  exports.Set("sgemm", Napi::Function::New(env, gemm<Fp32Api>, "sgemm"));
  exports.Set("packedBSize", Napi::Function::New(env, packedBSize<Fp32Api>, "packedBSize"));
  exports.Set("packedBAlignment", Napi::Function::New(env, packedBAlignment<Fp32Api>, "packedBAlignment"));
  exports.Set("packB", Napi::Function::New(env, packB<Fp32Api>, "packB"));
  exports.Set("sgemmPackedB", Napi::Function::New(env, gemmPackedB<Fp32Api>, "sgemmPackedB"));
  exports.Set("gemmBf16", Napi::Function::New(env, gemm<Bf16Api>, "gemmBf16"));
  exports.Set("packedBSizeBf16", Napi::Function::New(env, packedBSize<Bf16Api>, "packedBSizeBf16"));
  exports.Set("packedBAlignmentBf16", Napi::Function::New(env, packedBAlignment<Bf16Api>, "packedBAlignmentBf16"));
  exports.Set("packBBf16", Napi::Function::New(env, packB<Bf16Api>, "packBBf16"));
  exports.Set("gemmBf16PackedB", Napi::Function::New(env, gemmPackedB<Bf16Api>, "gemmBf16PackedB"));
  exports.Set("fmaPeak", Napi::Function::New(env, fmaPeak, "fmaPeak"));
}

}  // namespace fcnn::binding
