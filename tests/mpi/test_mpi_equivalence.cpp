// N ranks against one process: with SyncBatchNorm, N ranks at batch B train as one process at N * B; with
// plain BatchNorm, as one process whose BN normalizes each rank's slice of the batch separately (ghost
// batches). 20 steps over 4 epochs (global batch 16). SyncBatchNorm on 74 samples: the last batch of each
// epoch splits unevenly at 4 ranks (3, 3, 2, 2), which tests the weighting by sample counts. Per-rank BN on
// 76 (last batch 3 per rank at 4 ranks): BN over 2 samples maps any two values to -1 and +1, and its
// gradient amplifies the rounding differences of the layers before it a thousandfold (measured 2e-3 on 74):
// ill-conditioned, not a wrong sum, and no one trains per-rank BN at 2 samples. Every rank's parameters and buffers must be bit-identical after every
// step. The measured maxima are printed (rank 0). A clone() of a SyncBatchNorm network trains the same way.
#include <catch2/catch.hpp>
#include <cstdio>

#include "mpi_fixtures.hpp"

using namespace xgrad;
using namespace xgrad::mpi_testing;
using distributed::Communicator;

namespace {

constexpr std::size_t kGlobalBatch = 16, kSteps = 20;
// Float sums in another order and over other groupings: ~1e-7 per step, grown by 20 steps of SGD with
// momentum. The issue asks for 1e-5 relative.
constexpr double kTolerance = 1e-5;

// BatchNorm applied to each of `ranks` slices of the batch separately, split as the DataLoader's sharding
// splits it (the first N % ranks slices one larger): what N ranks with per-rank BN compute.
class GhostBatchNorm : public Module {
 public:
  GhostBatchNorm(std::shared_ptr<Module> bn, std::size_t ranks) : ranks_(ranks) { bn_ = register_module("bn", bn); }
  Tensor forward(const Tensor& x) override {
    const std::size_t N = x.shape()[0], base = N / ranks_, extra = N % ranks_;
    std::vector<Tensor> parts;
    std::size_t start = 0;
    for (std::size_t r = 0; r < ranks_; ++r) {
      const std::size_t n = base + (r < extra ? 1 : 0);
      parts.push_back((*bn_)(slice(x, 0, std::int64_t(start), std::int64_t(start + n))));
      start += n;
    }
    return concat(parts, 0);
  }
  std::string describe() const override { return "GhostBatchNorm"; }

 private:
  std::size_t ranks_;
  std::shared_ptr<Module> bn_;
};

struct Measured {
  double loss = 0, weights = 0;
  bool identical = true;
};

// Trains `distributed_net` at comm.size() ranks and `reference` alone on the whole global batch, step by
// step; returns the largest relative differences of losses and of parameters (over ranks and steps) and
// whether every rank's parameters and buffers (or parameters only, if !buffers_agree) were bit-identical
// after every step.
Measured compare(Module& distributed_net, Module& reference, const Communicator& comm, bool buffers_agree,
                 std::size_t samples) {
  const std::size_t R = comm.size();
  distributed::broadcast_parameters(distributed_net, comm);
  SGD opt(distributed_net.named_parameters(), sgd()), ref_opt(reference.named_parameters(), sgd());
  distributed::GradientAverager averager(distributed_net.parameters(), comm, {.bucket_floats = 100});
  DataLoader shard(synthetic(samples, 7), {.batch_size = kGlobalBatch / R, .shuffle = true, .seed = 3,
                                            .num_replicas = R, .rank = std::size_t(comm.rank())});
  DataLoader whole(synthetic(samples, 7), {.batch_size = kGlobalBatch, .shuffle = true, .seed = 3});
  REQUIRE(shard.size() == whole.size());
  Measured m;
  std::size_t step = 0;
  while (step < kSteps) {
    auto a = shard.begin();
    for (auto b = whole.begin(); b != whole.end() && step < kSteps; ++b, ++a, ++step) {
      const double loss = data_parallel_step(distributed_net, opt, averager, comm, *a);
      const double ref_loss = local_step(reference, ref_opt, *b);
      m.loss = std::max(m.loss, std::fabs(loss - ref_loss) / std::fabs(ref_loss));
      m.weights = std::max(m.weights, relative_difference(flat(distributed_net, false), flat(reference, false)));
      if (differs_from_root(flat(distributed_net, buffers_agree), comm)) m.identical = false;
    }
  }
  m.loss = max_over_ranks(m.loss, comm);
  m.weights = max_over_ranks(m.weights, comm);
  return m;
}

}  // namespace

TEST_CASE("N ranks at batch B with SyncBatchNorm train as one process at N * B", "[mpi][sync_batch_norm]") {
  const Communicator world = Communicator::world();
  auto net = small_net(batch_norm(), 5);
  CHECK(distributed::convert_sync_batchnorm(*net, world) == 2);
  auto reference = small_net(batch_norm(), 5);
  const Measured m = compare(*net, *reference, world, true, 74);
  if (world.is_root()) {
    std::printf("SyncBatchNorm, %d ranks x %zu vs 1 x %zu, %zu steps: max relative difference of losses %.2e, "
                "of weights %.2e\n", world.size(), kGlobalBatch / world.size(), kGlobalBatch, kSteps, m.loss,
                m.weights);
  }
  CHECK(m.loss <= kTolerance);
  CHECK(m.weights <= kTolerance);
  CHECK(m.identical);
  // The running statistics too: SyncBatchNorm's come from the global batch, as the reference's.
  double buffers = relative_difference(flat(*net, true), flat(*reference, true));
  CHECK(max_over_ranks(buffers, world) <= kTolerance);
}

TEST_CASE("N ranks with per-rank BatchNorm train as one process normalizing each slice (ghost batches)",
          "[mpi][batch_norm]") {
  const Communicator world = Communicator::world();
  auto net = small_net(batch_norm(), 5);
  const std::size_t R = world.size();
  auto ghost = [R](int c, bool spatial) -> std::shared_ptr<Module> {
    return std::make_shared<GhostBatchNorm>(batch_norm()(c, spatial), R);
  };
  auto reference = small_net(ghost, 5);
  // Per-rank running statistics differ between ranks (each sees its own slice): parameters only.
  const Measured m = compare(*net, *reference, world, false, 76);
  if (world.is_root()) {
    std::printf("per-rank BatchNorm, %d ranks x %zu vs 1 x %zu ghost-batch, %zu steps: max relative difference of "
                "losses %.2e, of weights %.2e\n", world.size(), kGlobalBatch / world.size(), kGlobalBatch, kSteps,
                m.loss, m.weights);
  }
  CHECK(m.loss <= kTolerance);
  CHECK(m.weights <= kTolerance);
  CHECK(m.identical);
}

TEST_CASE("broadcast_parameters gives every rank rank 0's parameters and buffers", "[mpi]") {
  const Communicator world = Communicator::world();
  // A different seed per rank: different weights until the broadcast.
  auto net = small_net(batch_norm(), 100 + world.rank());
  for (auto& [name, t] : net->named_buffers()) std::fill_n(t.data(), t.numel(), float(world.rank()));
  CHECK((world.size() == 1 || differs_from_root(flat(*net, true), world)));
  distributed::broadcast_parameters(*net, world);
  CHECK(!differs_from_root(flat(*net, true), world));
  CHECK(relative_difference(flat(*net, false), flat(*small_net(batch_norm(), 100), false)) == 0.0);
  // A rank with another architecture: every rank throws (none is left waiting).
  auto other = world.rank() == world.size() - 1 ? small_net([](int, bool) { return std::make_shared<Identity>(); }, 1)
                                                  : small_net(batch_norm(), 1);
  if (world.size() > 1) {
    CHECK_THROWS_WITH(distributed::broadcast_parameters(*other, world),
                      Catch::Contains("names or shapes differ from rank 0's on some rank"));
  }
}

TEST_CASE("GradientAverager: the weighted mean of the ranks' gradients, the same for any bucket size", "[mpi]") {
  const Communicator world = Communicator::world();
  const int R = world.size(), r = world.rank();
  // Parameter values are irrelevant; gradients are set by hand: grad_r = r + 1 (everywhere), count_r = r + 1.
  std::vector<double> results;
  for (std::size_t bucket : {std::size_t{1} << 20, std::size_t{7}, std::size_t{1}}) {
    auto net = small_net(batch_norm(), 1);
    for (auto& t : net->parameters()) {
      Tensor g = full(t.shape(), float(r + 1));
      t.backward(g);  // a leaf: its gradient becomes g
    }
    distributed::GradientAverager averager(net->parameters(), world, {.bucket_floats = bucket});
    averager.average(std::size_t(r + 1));
    // sum_r (r + 1)^2 / sum_r (r + 1)
    double num = 0, den = 0;
    for (int k = 1; k <= R; ++k) {
      num += double(k) * k;
      den += k;
    }
    double worst = 0;
    for (auto& t : net->parameters()) {
      for (float v : t.grad().to_vector()) worst = std::max(worst, std::fabs(v - num / den) / (num / den));
    }
    CHECK(max_over_ranks(worst, world) <= 1e-6);
    results.push_back(net->parameters()[0].grad().to_vector()[0]);
    if (bucket == 1) CHECK(averager.bucket_count() == net->parameters().size());
  }
  CHECK(results[0] == results[1]);
  CHECK(results[1] == results[2]);
}

TEST_CASE("clone() of a network with SyncBatchNorm syncs over the same ranks, on parameters of its own",
          "[mpi][sync_batch_norm]") {
  const Communicator world = Communicator::world();
  auto net = small_net(batch_norm(), 5);
  REQUIRE(distributed::convert_sync_batchnorm(*net, world) == 2);
  const std::vector<float> before = flat(*net, true);
  auto copy = net->clone();
  std::size_t syncs = 0;
  for (const auto& [name, m] : copy->named_modules()) {
    if (const auto* s = dynamic_cast<const distributed::SyncBatchNorm*>(m)) {
      ++syncs;
      CHECK(s->communicator().size() == world.size());
      CHECK(s->communicator().rank() == world.rank());
    }
  }
  CHECK(syncs == 2);
  // The clone trained at N ranks matches one process at N * B: its statistics are the global batch's. A
  // clone whose BN had lost the communicator would normalize each rank's slice and miss by far more.
  auto reference = small_net(batch_norm(), 5);
  const Measured m = compare(*copy, *reference, world, true, 74);
  CHECK(m.loss <= kTolerance);
  CHECK(m.weights <= kTolerance);
  CHECK(m.identical);
  // Training the clone left the original's parameters and buffers as they were.
  CHECK(!differs_from_root(flat(*net, true), world));
  CHECK(flat(*net, true) == before);
}
