// DataParallel: see data_parallel.hpp.
#include "examples/common/data_parallel.hpp"
#include "examples/common/stop_signal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "xgrad/core/error.hpp"
#ifdef XGRAD_HAVE_MPI
#include "xgrad/distributed/communicator.hpp"
#include "xgrad/distributed/data_parallel.hpp"
#include "xgrad/distributed/sync_batch_norm.hpp"
#endif

namespace xgrad::examples {

#ifdef XGRAD_HAVE_MPI
struct DataParallel::State {
  std::unique_ptr<distributed::Environment> mpi;
  distributed::Communicator world;
  std::unique_ptr<distributed::GradientAverager> averager;
};
#else
struct DataParallel::State {};
#endif

DataParallel::DataParallel(int& argc, char**& argv, const char* program) : program_(program) {
#ifdef XGRAD_HAVE_MPI
  if (!distributed::launched_by_mpi_launcher()) return;  // a plain run: no MPI at all
  state_ = new State{std::make_unique<distributed::Environment>(&argc, &argv), {}, nullptr};
  state_->world = distributed::Communicator::world();
  hooks_.rank = state_->world.rank();
  hooks_.ranks = state_->world.size();
  if (hooks_.rank != 0) {
    // Silence progress lines and results; keep the real stderr for fail().
    std::fflush(stdout);
    std::fflush(stderr);
    stderr_fd_ = dup(STDERR_FILENO);
    const int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) {
      dup2(null_fd, STDOUT_FILENO);
      dup2(null_fd, STDERR_FILENO);
      close(null_fd);
    }
  }
#else
  (void)argc;
  (void)argv;
#endif
}

DataParallel::~DataParallel() {
  set_stop_agreement(nullptr);  // it allreduces: not after MPI_Finalize
#ifdef XGRAD_HAVE_MPI
  delete state_;  // the averager, then MPI_Finalize
#endif
}

void DataParallel::add_flags(CLI::App& app) {
  app.add_flag("--sync-bn", hooks_.sync_bn,
               "Under mpirun: BatchNorm statistics over the global batch (SyncBatchNorm) instead of each rank's");
}

DataLoaderOptions DataParallel::shard(DataLoaderOptions global) const {
  const auto R = static_cast<std::size_t>(hooks_.ranks);
  XGRAD_CHECK(global.batch_size % R == 0, "--batch-size ", global.batch_size, " (the global batch) is not a multiple "
              "of the ", R, " ranks");
  global.batch_size /= R;
  global.num_replicas = R;
  global.rank = static_cast<std::size_t>(hooks_.rank);
  return global;
}

DataParallelHooks DataParallel::prepare(Module& model) {
#ifdef XGRAD_HAVE_MPI
  if (state_ && hooks_.ranks > 1) {
    const distributed::Communicator world = state_->world;
    if (hooks_.sync_bn) distributed::convert_sync_batchnorm(model, world);
    distributed::broadcast_parameters(model, world);
    state_->averager = std::make_unique<distributed::GradientAverager>(model.parameters(), world);
    distributed::GradientAverager* averager = state_->averager.get();
    hooks_.average_gradients = [averager](std::size_t n) { averager->average(n); };
    hooks_.allreduce = [world](double* v, std::size_t n, bool max) {
      max ? world.allreduce_max(v, n) : world.allreduce_sum(v, n);
    };
    hooks_.allreduce_seconds_per_step = [averager] {
      return averager->steps() ? averager->allreduce_seconds() / double(averager->steps()) : 0.0;
    };
    // A signal reaching one rank (or all, a step apart) stops every rank after the same step: one
    // allreduce of a single value per step, a few microseconds beside a step of milliseconds.
    set_stop_agreement([world](int local) {
      double v = local;
      world.allreduce_max(&v, 1);
      return static_cast<int>(v);
    });
  }
#else
  (void)model;
#endif
  return hooks_;
}

int DataParallel::fail(const std::string& message) {
  if (hooks_.ranks == 1) {
    std::fprintf(stderr, "%s: %s\n", program_.c_str(), message.c_str());
    return 1;
  }
  const std::string text = program_ + " (rank " + std::to_string(hooks_.rank) + " of " +
                           std::to_string(hooks_.ranks) + "): " + message + "; stopping every rank\n";
  if (stderr_fd_ >= 0) {
    (void)!write(stderr_fd_, text.data(), text.size());
  } else {
    std::fputs(text.c_str(), stderr);
    std::fflush(stderr);
  }
#ifdef XGRAD_HAVE_MPI
  state_->world.abort("", 1);
#endif
  return 1;
}

}  // namespace xgrad::examples
