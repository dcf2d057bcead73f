// Communicator: see communicator.hpp. Every MPI call's status is checked: under MPI's default error handler
// (MPI_ERRORS_ARE_FATAL) a failing call, e.g. a peer that died, ends the whole job with MPI's own message;
// under MPI_ERRORS_RETURN it becomes an xgrad::Error naming the call. Counts above INT_MAX go in chunks.
#include "xgrad/distributed/communicator.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "xgrad/core/error.hpp"

namespace xgrad::distributed {
namespace {

void check(int status, const char* call) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  XGRAD_CHECK(false, "distributed: ", call, " failed: ", std::string(text, length));
}

bool mpi_initialized() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

// Calls f(pointer, count) on chunks of at most INT_MAX elements (MPI counts are int).
template <class T, class F>
void chunked(T* data, std::size_t n, F f) {
  for (std::size_t done = 0; done < n;) {
    const std::size_t count = std::min<std::size_t>(n - done, INT_MAX);
    f(data + done, static_cast<int>(count));
    done += count;
  }
}

}  // namespace

Environment::Environment(int* argc, char*** argv) {
  if (mpi_initialized()) return;
  // One thread calls MPI (OpenMP threads only compute): MPI_THREAD_FUNNELED is enough.
  int provided = 0;
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  owns_ = true;
}

Environment::~Environment() {
  if (owns_ && mpi_initialized()) MPI_Finalize();
}

bool launched_by_mpi_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

Communicator::Communicator(MPI_Comm comm) : comm_(comm) {
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

Communicator Communicator::world() {
  XGRAD_CHECK(mpi_initialized(), "distributed: Communicator::world() needs MPI initialized (an Environment)");
  return Communicator(MPI_COMM_WORLD);
}

Communicator Communicator::self() {
  XGRAD_CHECK(mpi_initialized(), "distributed: Communicator::self() needs MPI initialized (an Environment)");
  return Communicator(MPI_COMM_SELF);
}

Communicator Communicator::split(int color) const {
  XGRAD_CHECK(color >= 0, "distributed: split needs a color >= 0, got ", color);
  if (comm_ == MPI_COMM_NULL) return *this;
  MPI_Comm part = MPI_COMM_NULL;
  check(MPI_Comm_split(comm_, color, rank_, &part), "MPI_Comm_split");
  return Communicator(part);
}

void Communicator::allreduce_sum(float* data, std::size_t n) const {
  if (size_ == 1) return;
  chunked(data, n, [&](float* p, int count) {
    check(MPI_Allreduce(MPI_IN_PLACE, p, count, MPI_FLOAT, MPI_SUM, comm_), "MPI_Allreduce");
  });
}

void Communicator::allreduce_sum(double* data, std::size_t n) const {
  if (size_ == 1) return;
  chunked(data, n, [&](double* p, int count) {
    check(MPI_Allreduce(MPI_IN_PLACE, p, count, MPI_DOUBLE, MPI_SUM, comm_), "MPI_Allreduce");
  });
}

void Communicator::allreduce_max(double* data, std::size_t n) const {
  if (size_ == 1) return;
  chunked(data, n, [&](double* p, int count) {
    check(MPI_Allreduce(MPI_IN_PLACE, p, count, MPI_DOUBLE, MPI_MAX, comm_), "MPI_Allreduce");
  });
}

void Communicator::broadcast(float* data, std::size_t n, int root) const {
  XGRAD_CHECK(root >= 0 && root < size_, "distributed: broadcast from rank ", root, " of ", size_);
  if (size_ == 1) return;
  chunked(data, n, [&](float* p, int count) { check(MPI_Bcast(p, count, MPI_FLOAT, root, comm_), "MPI_Bcast"); });
}

void Communicator::broadcast(std::uint64_t* data, std::size_t n, int root) const {
  XGRAD_CHECK(root >= 0 && root < size_, "distributed: broadcast from rank ", root, " of ", size_);
  if (size_ == 1) return;
  chunked(data, n,
          [&](std::uint64_t* p, int count) { check(MPI_Bcast(p, count, MPI_UINT64_T, root, comm_), "MPI_Bcast"); });
}

void Communicator::barrier() const {
  if (size_ > 1) check(MPI_Barrier(comm_), "MPI_Barrier");
}

void Communicator::abort(const std::string& message, int code) const {
  if (!message.empty()) std::fprintf(stderr, "%s\n", message.c_str());
  std::fflush(stderr);
  if (comm_ != MPI_COMM_NULL && mpi_initialized()) MPI_Abort(comm_, code);
  std::exit(code);
}

}  // namespace xgrad::distributed
