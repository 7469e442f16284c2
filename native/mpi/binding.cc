// The Node-API face of the MPI addon (fcnn_mpi.node): argument checks, then one call into comm.cc.
// Loaded by the main thread and by every worker thread of a rank; they all share the process's one
// communication thread. Collectives block the calling thread in native code until they ran: a
// JavaScript thread waiting in Atomics.wait could not be woken by the communication thread.
#include <napi.h>

#include <limits>
#include <stdexcept>

#include "binding/args.h"
#include "mpi/comm.h"

namespace fcnn::binding {

namespace {

constexpr uint64_t kMaxCount = std::numeric_limits<int>::max();

// Runs f, turning a std::runtime_error of comm.cc into a JavaScript Error.
template <typename F>
auto guarded(const Args& args, F f) {
  try {
    return f();
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(args.env(), std::string("fcnn_mpi: ") + e.what());
  }
}

// Checks 0 <= begin <= end <= length and the element count MPI takes (an int).
void checkRange(const Args& args, size_t length, int64_t begin, int64_t end) {
  if (begin > end || static_cast<uint64_t>(end) > length)
    args.rangeError("the range [" + std::to_string(begin) + ", " + std::to_string(end) +
                    ") is not inside the array of " + std::to_string(length) + " elements");
  if (static_cast<uint64_t>(end - begin) > kMaxCount) args.rangeError("more elements than one MPI collective takes");
}

// init() -> { rank, size, library }: starts MPI in the communication thread (once per process).
Napi::Value Init(const Napi::CallbackInfo& info) {
  Args args(info, "init", 0);
  const mpi::WorldInfo* world = guarded(args, [] { return &mpi::start(); });
  Napi::Object out = Napi::Object::New(args.env());
  out.Set("rank", world->rank);
  out.Set("size", world->size);
  out.Set("library", world->library);
  return out;
}

// allreduceStart(x: Float32Array, begin, end) -> ticket: sums x[begin, end) over the ranks, in place.
Napi::Value AllreduceStart(const Napi::CallbackInfo& info) {
  Args args(info, "allreduceStart", 3);
  auto x = args.f32(0, "x");
  int64_t begin = args.dim(1, "begin"), end = args.dim(2, "end");
  checkRange(args, x.length, begin, end);
  mpi::Op op{mpi::OpKind::SumFloat32, x.data + begin, static_cast<size_t>(end - begin)};
  return Napi::Number::New(args.env(), static_cast<double>(guarded(args, [&] { return mpi::enqueue(op); })));
}

// wait(ticket): blocks until that collective (and all queued before it) ran.
Napi::Value Wait(const Napi::CallbackInfo& info) {
  Args args(info, "wait", 1);
  double ticket = args.number(0, "ticket");
  if (!(ticket >= 1 && ticket == static_cast<double>(static_cast<uint64_t>(ticket))))
    args.rangeError("ticket must be a positive integer returned by allreduceStart");
  guarded(args, [&] {
    mpi::wait(static_cast<uint64_t>(ticket));
    return 0;
  });
  return args.env().Undefined();
}

// allreduceF64(x: Float64Array): sums x over the ranks, in place, and returns once done.
Napi::Value AllreduceF64(const Napi::CallbackInfo& info) {
  Args args(info, "allreduceF64", 1);
  auto x = args.f64(0, "x");
  checkRange(args, x.length, 0, static_cast<int64_t>(x.length));
  mpi::Op op{mpi::OpKind::SumFloat64, x.data, x.length};
  guarded(args, [&] {
    mpi::wait(mpi::enqueue(op));
    return 0;
  });
  return args.env().Undefined();
}

// broadcast(x: any typed array, root): every rank's x becomes root's, and returns once done.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Args args(info, "broadcast", 2);
  auto x = args.bytes(0, "x");
  int64_t root = args.dim(1, "root");
  checkRange(args, x.length, 0, static_cast<int64_t>(x.length));
  guarded(args, [&] {
    if (root >= mpi::start().size) args.rangeError("root " + std::to_string(root) + " is not a rank of the world");
    mpi::wait(mpi::enqueue({mpi::OpKind::Broadcast, x.data, x.length, static_cast<int>(root)}));
    return 0;
  });
  return args.env().Undefined();
}

// finalize(): runs what is queued, then MPI_Finalize (also done at exit).
Napi::Value Finalize(const Napi::CallbackInfo& info) {
  Args args(info, "finalize", 0);
  mpi::finalize();
  return args.env().Undefined();
}

// abort(code): ends every rank of the job (never returns).
Napi::Value Abort(const Napi::CallbackInfo& info) {
  Args args(info, "abort", 1);
  int64_t code = args.dim(0, "code");
  mpi::abort(static_cast<int>(code > 255 ? 255 : code));
}

}  // namespace

Napi::Object registerMpi(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("allreduceStart", Napi::Function::New(env, AllreduceStart, "allreduceStart"));
  exports.Set("wait", Napi::Function::New(env, Wait, "wait"));
  exports.Set("allreduceF64", Napi::Function::New(env, AllreduceF64, "allreduceF64"));
  exports.Set("broadcast", Napi::Function::New(env, Broadcast, "broadcast"));
  exports.Set("finalize", Napi::Function::New(env, Finalize, "finalize"));
  exports.Set("abort", Napi::Function::New(env, Abort, "abort"));
  return exports;
}

}  // namespace fcnn::binding

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) { return fcnn::binding::registerMpi(env, exports); }

}  // namespace

NODE_API_MODULE(fcnn_mpi, Init)
