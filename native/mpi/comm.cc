#include "mpi/comm.h"

#include <mpi.h>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace fcnn::mpi {

namespace {

// One per process, never destroyed: worker threads and exit handlers may use it until the end.
struct State {
  std::mutex mutex;
  std::condition_variable work;  // the communication thread waits for ops (or the stop request)
  std::condition_variable done;  // callers wait for their ticket
  std::deque<Op> queue;
  uint64_t enqueued = 0;
  uint64_t completed = 0;
  bool ready = false;
  bool stopping = false;
  bool finalized = false;
  std::string startError;
  WorldInfo world;
  std::thread thread;
};

State& state() {
  static State* s = new State();
  return *s;
}

void runOp(const Op& op) {
  switch (op.kind) {
    case OpKind::SumFloat32:
      MPI_Allreduce(MPI_IN_PLACE, op.data, static_cast<int>(op.count), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      break;
    case OpKind::SumFloat64:
      MPI_Allreduce(MPI_IN_PLACE, op.data, static_cast<int>(op.count), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      break;
    case OpKind::Broadcast:
      MPI_Bcast(op.data, static_cast<int>(op.count), MPI_BYTE, op.root, MPI_COMM_WORLD);
      break;
  }
}

void serve(State& s) {
  // A rank waiting in a collective for a slower one polls; Open MPI then gives its core away between
  // polls only when told to. The ranks of a machine share its cores with their worker threads, so the
  // polling would take cores from the computation (a setting of the user's own is kept).
  setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
  int provided = 0;
  int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    if (rc != MPI_SUCCESS || provided < MPI_THREAD_FUNNELED) {
      s.startError =
          rc != MPI_SUCCESS ? "MPI_Init_thread failed" : "the MPI library does not provide MPI_THREAD_FUNNELED";
    } else {
      MPI_Comm_rank(MPI_COMM_WORLD, &s.world.rank);
      MPI_Comm_size(MPI_COMM_WORLD, &s.world.size);
      char version[MPI_MAX_LIBRARY_VERSION_STRING];
      int length = 0;
      MPI_Get_library_version(version, &length);
      std::string v(version, static_cast<size_t>(length));
      s.world.library = v.substr(0, v.find_first_of("\r\n,"));
    }
    s.ready = true;
  }
  s.done.notify_all();
  if (!s.startError.empty()) return;
  for (;;) {
    Op op;
    {
      std::unique_lock<std::mutex> lock(s.mutex);
      s.work.wait(lock, [&] { return !s.queue.empty() || s.stopping; });
      if (s.queue.empty()) break;
      op = s.queue.front();
      s.queue.pop_front();
    }
    runOp(op);
    {
      std::lock_guard<std::mutex> lock(s.mutex);
      s.completed++;
    }
    s.done.notify_all();
  }
  MPI_Finalize();
}

}  // namespace

const WorldInfo& start() {
  State& s = state();
  std::unique_lock<std::mutex> lock(s.mutex);
  if (s.finalized) throw std::runtime_error("MPI was finalized; it cannot be started again in this process");
  if (!s.thread.joinable()) {
    s.thread = std::thread(serve, std::ref(s));
    std::atexit(finalize);
  }
  s.done.wait(lock, [&] { return s.ready; });
  if (!s.startError.empty()) throw std::runtime_error(s.startError);
  return s.world;
}

bool started() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.ready && s.startError.empty() && !s.finalized;
}

uint64_t enqueue(const Op& op) {
  State& s = state();
  uint64_t ticket;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.ready || !s.startError.empty() || s.stopping)
      throw std::runtime_error("MPI is not running (init() first, not after finalize())");
    s.queue.push_back(op);
    ticket = ++s.enqueued;
  }
  s.work.notify_one();
  return ticket;
}

void wait(uint64_t ticket) {
  State& s = state();
  std::unique_lock<std::mutex> lock(s.mutex);
  if (ticket > s.enqueued) throw std::runtime_error("no collective has ticket " + std::to_string(ticket));
  s.done.wait(lock, [&] { return s.completed >= ticket; });
}

void finalize() {
  State& s = state();
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.finalized || !s.thread.joinable()) return;
    s.stopping = true;
    s.finalized = true;
  }
  s.work.notify_one();
  s.thread.join();
}

void abort(int code) {
  State& s = state();
  bool running;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    running = s.ready && s.startError.empty() && !s.finalized;
  }
  if (running) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace fcnn::mpi
