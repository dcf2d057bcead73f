// What the MPI tests share: a small network with a choice of normalization, a synthetic data set, one
// data-parallel training step, and comparisons of whole models (measured over every rank).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "xgrad/distributed/communicator.hpp"
#include "xgrad/distributed/data_parallel.hpp"
#include "xgrad/distributed/sync_batch_norm.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::mpi_testing {

using distributed::Communicator;

// Makes the normalization after a layer of `channels` outputs; nullptr for none.
using NormFactory = std::function<std::shared_ptr<Module>(int channels, bool spatial)>;

inline NormFactory batch_norm() {
  return [](int c, bool spatial) -> std::shared_ptr<Module> {
    if (spatial) return std::make_shared<BatchNorm2d>(c);
    return std::make_shared<BatchNorm1d>(c);
  };
}

// Conv(1->4, 3, pad 1)-Norm-ReLU-MaxPool(2), Flatten, Dense(36->8)-Norm-ReLU, Dense(8->5) on (N, 1, 6, 6).
// The same weights for the same seed whatever the normalization.
inline std::shared_ptr<Sequential> small_net(const NormFactory& norm, std::uint64_t seed) {
  auto net = std::make_shared<Sequential>();
  Generator g1(seed), g2(seed + 1), g3(seed + 2);
  net->add(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 1, .out_channels = 4, .kernel_size = 3,
                                                  .padding = 1},
                                    g1));
  net->add(norm(4, true));
  net->add(std::make_shared<ReLU>());
  net->add(std::make_shared<MaxPool2d>(2));
  net->add(std::make_shared<Flatten>());
  net->add(std::make_shared<Dense>(36, 8, g2));
  net->add(norm(8, false));
  net->add(std::make_shared<ReLU>());
  net->add(std::make_shared<Dense>(8, 5, g3));
  return net;
}

// n samples (1, 6, 6) ~ N(0.5, 1) with labels in [0, 5), the same on every rank.
inline TensorDataset synthetic(std::size_t n, std::uint64_t seed) {
  Generator gen(seed);
  Tensor x = add(randn({n, 1, 6, 6}, gen), 0.5f);
  Labels labels;
  for (std::size_t i = 0; i < n; ++i) labels.push_back(static_cast<std::int32_t>(gen.below(5)));
  return TensorDataset(x, labels);
}

inline SGDOptions sgd() { return {.lr = 0.05, .momentum = 0.9}; }

// One data-parallel step: forward and loss on this rank's batch, backward, gradients averaged, update.
// Returns the global batch's mean loss (the ranks' means weighted by their sample counts).
inline double data_parallel_step(Module& model, Optimizer& optimizer, distributed::GradientAverager& averager,
                                 const Communicator& comm, const Batch& batch) {
  optimizer.zero_grad();
  Tensor loss = cross_entropy(model(batch.inputs), batch.labels);
  loss.backward();
  averager.average(batch.labels.size());
  optimizer.step();
  double sums[2] = {double(loss.item()) * double(batch.labels.size()), double(batch.labels.size())};
  comm.allreduce_sum(sums, 2);
  return sums[0] / sums[1];
}

// One step of a single process on a whole batch.
inline double local_step(Module& model, Optimizer& optimizer, const Batch& batch) {
  optimizer.zero_grad();
  Tensor loss = cross_entropy(model(batch.inputs), batch.labels);
  loss.backward();
  optimizer.step();
  return loss.item();
}

// Every parameter (and buffer, if asked) of `model`, one after another.
inline std::vector<float> flat(const Module& model, bool buffers) {
  std::vector<float> out;
  for (const auto& [name, t] : model.named_parameters()) out.insert(out.end(), t.data(), t.data() + t.numel());
  if (buffers) {
    for (const auto& [name, t] : model.named_buffers()) out.insert(out.end(), t.data(), t.data() + t.numel());
  }
  return out;
}

// max_i |a_i - b_i| / max_i |b_i|: relative to the tensor's scale (an element near 0 would make an
// element-wise ratio meaningless).
inline double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    diff = std::max(diff, std::fabs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::fabs(double(b[i])));
  }
  if (a.size() != b.size()) return INFINITY;
  return scale > 0 ? diff / scale : diff;
}

// The largest of `x` over the ranks.
inline double max_over_ranks(double x, const Communicator& comm) {
  comm.allreduce_max(&x, 1);
  return x;
}

// 1 if `values` differ in any bit from root's on any rank, else 0: the same answer on every rank.
inline bool differs_from_root(std::vector<float> values, const Communicator& comm) {
  std::vector<float> root = values;
  comm.broadcast(root.data(), root.size());
  double bad = std::memcmp(root.data(), values.data(), values.size() * sizeof(float)) != 0 ? 1.0 : 0.0;
  return max_over_ranks(bad, comm) != 0.0;
}

}  // namespace xgrad::mpi_testing
