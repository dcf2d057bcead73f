// A checkpoint written by 2 ranks resumes at 1 rank, at 2 and (under mpirun -np 4) at 4, exactly where it
// left off: the next epoch, the same shuffled batches. Resumed at 2 it is the uninterrupted run bit for
// bit; at 1 and 4 ranks (other groupings of the same sums) within 1e-5 relative. SyncBatchNorm throughout,
// so that the rank count does not change the mathematics.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "mpi_fixtures.hpp"

using namespace xgrad;
using namespace xgrad::mpi_testing;
using distributed::Communicator;

namespace {

constexpr std::size_t kSamples = 74, kGlobalBatch = 16;

struct Run {
  std::shared_ptr<Sequential> net;
  std::unique_ptr<SGD> opt;
  std::unique_ptr<DataLoader> loader;
  std::unique_ptr<distributed::GradientAverager> averager;
  Communicator comm;

  explicit Run(const Communicator& c) : comm(c) {
    net = small_net(batch_norm(), 9);
    distributed::convert_sync_batchnorm(*net, comm);
    distributed::broadcast_parameters(*net, comm);
    opt = std::make_unique<SGD>(net->named_parameters(), sgd());
    loader = std::make_unique<DataLoader>(
        synthetic(kSamples, 4), DataLoaderOptions{.batch_size = kGlobalBatch / comm.size(), .shuffle = true,
                                                  .seed = 8, .num_replicas = std::size_t(comm.size()),
                                                  .rank = std::size_t(comm.rank())});
    averager = std::make_unique<distributed::GradientAverager>(net->parameters(), comm);
  }
  void epoch() {
    for (const Batch& b : *loader) data_parallel_step(*net, *opt, *averager, comm, b);
  }
  void save(const std::string& path) {
    if (comm.is_root()) save_checkpoint(path, *net, opt.get(), nullptr, {&loader->shuffle_generator()}, {.epoch = 1});
    comm.barrier();
  }
  void load(const std::string& path) {
    const TrainingState s = load_checkpoint(path, *net, opt.get(), nullptr, {&loader->shuffle_generator()});
    REQUIRE(s.epoch == 1);
  }
};

// A folder made by world rank 0 (mkdtemp), its name sent to every rank.
std::string shared_scratch(const Communicator& world) {
  std::uint64_t words[32] = {};
  if (world.is_root()) {
    char pattern[] = "/tmp/xgrad_mpi_checkpoint_XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    std::snprintf(reinterpret_cast<char*>(words), sizeof words, "%s", pattern);
  }
  world.broadcast(words, 32);
  return reinterpret_cast<const char*>(words);
}

}  // namespace

TEST_CASE("A checkpoint written at 2 ranks resumes at 1, 2 and N ranks where it left off", "[mpi][checkpoint]") {
  const Communicator world = Communicator::world();
  REQUIRE(world.size() >= 2);
  const std::string dir = shared_scratch(world);
  const std::string path = dir + "/two_ranks.json";

  // World ranks 0 and 1 train epoch 1 at 2 ranks and save; then go on through epoch 2 (uninterrupted).
  const Communicator two = world.split(world.rank() < 2 ? 0 : 1);
  std::vector<float> uninterrupted;
  if (world.rank() < 2) {
    Run run(two);
    run.epoch();
    run.save(path);
    run.epoch();
    uninterrupted = flat(*run.net, true);
  }
  world.barrier();  // the file is complete before anyone reads it
  std::size_t n = 0;
  if (world.is_root()) n = uninterrupted.size();
  std::uint64_t n64 = n;
  world.broadcast(&n64, 1);
  uninterrupted.resize(n64);
  world.broadcast(uninterrupted.data(), uninterrupted.size());

  // Resumed at 1 rank (each process alone), at 2 (world ranks 0 and 1) and at every rank of the world.
  Run one(Communicator::self());
  one.load(path);
  one.epoch();
  const double at_one = max_over_ranks(relative_difference(flat(*one.net, true), uninterrupted), world);

  double at_two = 0;
  if (world.rank() < 2) {
    Run again(two);
    again.load(path);
    again.epoch();
    at_two = std::memcmp(flat(*again.net, true).data(), uninterrupted.data(), n64 * sizeof(float)) == 0 ? 0 : 1;
  }
  at_two = max_over_ranks(at_two, world);

  Run all(world);
  all.load(path);
  all.epoch();
  const double at_all = max_over_ranks(relative_difference(flat(*all.net, true), uninterrupted), world);
  if (world.is_root()) {
    std::printf("checkpoint written at 2 ranks, next epoch resumed: at 1 rank max relative difference %.2e, at 2 "
                "ranks %s, at %d ranks %.2e\n", at_one, at_two == 0 ? "bit-identical" : "DIFFERENT", world.size(),
                at_all);
    std::remove(path.c_str());
    rmdir(dir.c_str());
  }
  CHECK(at_one <= 1e-5);
  CHECK(at_two == 0);
  CHECK(at_all <= (world.size() == 2 ? 0.0 : 1e-5));
}
