// Communicator: the few MPI collectives data-parallel training needs (rank, size, allreduce, broadcast,
// barrier), over an MPI communicator, with errors as xgrad::Error. Not a transport of its own: Open MPI
// (or any MPI) moves the bytes. A default-constructed Communicator is one process without MPI: every
// collective is the identity, so single-process code and tests need no MPI_Init.
//
//   xgrad::distributed::Environment mpi(&argc, &argv);   // MPI_Init ... MPI_Finalize
//   auto world = xgrad::distributed::Communicator::world();
//   world.allreduce_sum(buffer.data(), buffer.size());
#pragma once
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace xgrad::distributed {

// MPI_Init on construction (unless MPI is already initialized), MPI_Finalize on destruction (if this object
// initialized it). One per process, in main, outliving every Communicator use.
class Environment {
 public:
  Environment(int* argc, char*** argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

 private:
  bool owns_ = false;
};

// True when this process was started by mpirun / mpiexec (Open MPI, MPICH, Slurm's PMI): the trainers then
// train data-parallel, and run exactly as before otherwise.
bool launched_by_mpi_launcher();

class Communicator {
 public:
  Communicator() = default;  // a single process, no MPI: rank 0 of 1
  // MPI_COMM_WORLD, MPI_COMM_SELF; MPI must be initialized.
  static Communicator world();
  static Communicator self();
  // Ranks with the same `color` form a new communicator, ordered by their rank here (MPI_Comm_split):
  // collective over this communicator. The new one is never freed (a handful per process at most).
  Communicator split(int color) const;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }

  // data[i] = sum over ranks of data[i], in place, identical bits on every rank.
  void allreduce_sum(float* data, std::size_t n) const;
  void allreduce_sum(double* data, std::size_t n) const;
  // data[i] = max over ranks of data[i].
  void allreduce_max(double* data, std::size_t n) const;
  // Rank `root`'s data to every rank.
  void broadcast(float* data, std::size_t n, int root = 0) const;
  void broadcast(std::uint64_t* data, std::size_t n, int root = 0) const;
  void barrier() const;
  // Ends every process of the job (MPI_Abort) after writing `message` (if any) to stderr; without MPI,
  // exit(code).
  [[noreturn]] void abort(const std::string& message, int code = 1) const;

 private:
  explicit Communicator(MPI_Comm comm);
  MPI_Comm comm_ = MPI_COMM_NULL;  // MPI_COMM_NULL: the single process without MPI
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace xgrad::distributed
