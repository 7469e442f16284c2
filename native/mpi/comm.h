// The communication thread of the MPI addon: the one thread of the process that calls MPI (as in
// Horovod), so that MPI_THREAD_FUNNELED suffices and any thread of the process (a worker of the
// pool, the main thread) can have a collective run without MPI's multi-threaded mode. Collectives run
// one at a time, in the order they were enqueued; the caller's protocol makes that order the same on
// every rank. Pure C++: no Node-API here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fcnn::mpi {

struct WorldInfo {
  int rank = 0;
  int size = 1;
  // MPI_Get_library_version, first line.
  std::string library;
};

enum class OpKind { SumFloat32, SumFloat64, Broadcast };

struct Op {
  OpKind kind;
  void* data;
  // Elements for the sums, bytes for the broadcast.
  size_t count;
  int root = 0;
};

// Starts the communication thread, which initializes MPI, and returns the world once it has; the
// second and later calls return the same. Throws std::runtime_error when MPI cannot start.
const WorldInfo& start();
bool started();
// Queues a collective (in place: the sums replace data with the sum over the ranks); returns its
// ticket, which wait() takes. The memory must stay valid until the ticket is waited for.
uint64_t enqueue(const Op& op);
// Blocks the calling thread until the collective with this ticket (and every one before it) ran.
void wait(uint64_t ticket);
// Runs the queued collectives, then MPI_Finalize, and joins the thread; idempotent. Also run at exit.
void finalize();
// Ends every rank of the job with this exit code (MPI_Abort, from the calling thread: the
// communication thread may be blocked in a collective that a failed rank never joins).
[[noreturn]] void abort(int code);

}  // namespace fcnn::mpi
