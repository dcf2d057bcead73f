// What the checkpoint fuzzer loads into, and what make_fuzz_seeds saves its seeds from: a small model with
// parameters and buffers (Dense, BatchNorm1d), Adam with a StepLR schedule and a generator (every section
// of a training checkpoint), and SGD with momentum. Fuzzing support only.
#pragma once
#include <memory>

#include "xgrad/core/generator.hpp"
#include "xgrad/core/ops/loss.hpp"
#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/layers/dense.hpp"
#include "xgrad/models/checkpoint_format.hpp"
#include "xgrad/models/sequential.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/lr_scheduler.hpp"
#include "xgrad/optim/sgd.hpp"

namespace xgrad::fuzz {

struct CheckpointFixture {
  Generator init{7};
  Sequential model{std::make_shared<Dense>(3, 2, init), std::make_shared<BatchNorm1d>(2)};
  Adam adam{model.named_parameters(), AdamOptions{.lr = 0.01}};
  StepLR schedule{adam, 2, 0.5};
  SGD sgd{model.named_parameters(), SGDOptions{.lr = 0.1, .momentum = 0.9}};
  Generator gen{11};

  // One step of `optimizer` on a fixed random batch, so that its state (moments, momentum) exists.
  void step(Optimizer& optimizer) {
    Generator data(3);
    const Tensor x = randn({4, 3}, data);
    optimizer.zero_grad();
    cross_entropy(model(x), Labels{0, 1, 1, 0}).backward();
    optimizer.step();
  }

  // Everything a load can change, encoded: equal snapshots mean equal objects.
  checkpoint_format::Json snapshot() const {
    return {checkpoint_format::encode_model(model), checkpoint_format::encode_optimizer(adam),
            checkpoint_format::encode_scheduler(schedule), checkpoint_format::encode_optimizer(sgd),
            checkpoint_format::encode_generator(gen)};
  }
};

}  // namespace xgrad::fuzz
