// Data-parallel training for the trainers: `mpirun -np N ./build/train_mnist ...` trains on N processes
// (xgrad's distributed/ over MPI), a plain run is one process exactly as before. Rank 0 alone prints,
// writes checkpoints and the report; the other ranks' stdout and stderr go to /dev/null, except for the
// message of an error, which ends the whole job (MPI_Abort: no rank is left waiting).
// Built with or without MPI: without it (XGRAD_MPI off) every run is one process.
#pragma once
#include <CLI/CLI.hpp>
#include <cstddef>
#include <functional>
#include <string>

#include "xgrad/data/data_loader.hpp"
#include "xgrad/layers/module.hpp"

namespace xgrad::examples {

// What run_classifier needs of the data-parallel run; the default is one process and changes nothing.
struct DataParallelHooks {
  int rank = 0;
  int ranks = 1;
  bool sync_bn = false;
  // After backward, before the update: the gradients averaged over the ranks (this rank's sample count).
  std::function<void(std::size_t local_count)> average_gradients;
  // values[i] = sum over ranks; max: the maximum instead.
  std::function<void(double* values, std::size_t n, bool max)> allreduce;
  // Seconds per step spent in the gradients' allreduce so far (this rank's wait included).
  std::function<double()> allreduce_seconds_per_step;
  bool is_root() const { return rank == 0; }
};

class DataParallel {
 public:
  // First thing in main: initializes MPI when the process was started by mpirun (and xgrad was built with
  // MPI), and silences the output of ranks other than 0. `program` names the messages.
  DataParallel(int& argc, char**& argv, const char* program);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const { return hooks_.rank; }
  int ranks() const { return hooks_.ranks; }

  // --sync-bn.
  void add_flags(CLI::App& app);
  // The training loader's options for this rank: `global` (batch_size = the global batch) sharded, the
  // per-rank batch global / ranks (throws if it does not divide).
  DataLoaderOptions shard(DataLoaderOptions global) const;
  // Before building the optimizer: BatchNorm -> SyncBatchNorm if --sync-bn (on more than one rank; on one
  // they are the same), then rank 0's weights everywhere. Returns the hooks for run_classifier.
  DataParallelHooks prepare(Module& model);
  // The same with SyncBatchNorm chosen here rather than by --sync-bn: for a program that trains several
  // models one after the other (bn_vs_no_bn), each prepared before its optimizer is built.
  DataParallelHooks prepare(Module& model, bool sync_bn);
  // Reports `message` (on the real stderr, naming the rank when there are several) and ends the job:
  // exit status 1 on one process, MPI_Abort on several. Returns the status to return from main.
  int fail(const std::string& message);

 private:
  struct State;
  State* state_ = nullptr;
  std::string program_;
  DataParallelHooks hooks_;
  int stderr_fd_ = -1;  // a copy of the real stderr (for fail()) on silenced ranks
};

}  // namespace xgrad::examples
