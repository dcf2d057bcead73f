// A steady-state training step calls operator new zero times (issue 15): tensor handles, graph nodes and
// closures come from the small-object pool, shapes and op input lists are inline, tensor data comes from
// the storage pool. The unit test program has testing/alloc_counter.cpp among its sources, which replaces
// the global operator new with one that counts (every thread's calls); this file runs a few warm steps of
// small conv + BN + ReLU + pool + dense networks.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include "testing/alloc_counter.hpp"
#include "xgrad/core/small_object_pool.hpp"
#include "xgrad/core/storage_pool.hpp"
#include "xgrad/layers/activations.hpp"
#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/layers/conv2d.hpp"
#include "xgrad/layers/dense.hpp"
#include "xgrad/layers/flatten.hpp"
#include "xgrad/layers/pooling.hpp"
#include "xgrad/models/reference_networks.hpp"
#include "xgrad/models/sequential.hpp"
#include "xgrad/training/train_epoch.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

namespace {

// operator new calls made by `step` once it has run `warm` times (the first steps fill the pools).
template <class Step>
std::int64_t new_calls_when_warm(Step&& step, int warm = 3, int counted = 2) {
  for (int i = 0; i < warm; ++i) step();
  const std::int64_t before = xgrad::testing::new_calls();
  for (int i = 0; i < counted; ++i) step();
  return xgrad::testing::new_calls() - before;
}

// conv 1->4 + BN + ReLU + 2x2 max-pool, then dense 64->10: every kind of op of the reference network.
std::shared_ptr<Sequential> small_conv_net(Generator& gen) {
  auto net = std::make_shared<Sequential>();
  net->add(std::make_shared<Conv2d>(1, 4, 3, 1, 1, gen));
  net->add(std::make_shared<BatchNorm2d>(4));
  net->add(std::make_shared<ReLU>());
  net->add(std::make_shared<MaxPool2d>(2));
  net->add(std::make_shared<Flatten>());
  net->add(std::make_shared<Dense>(4 * 4 * 4, 10, gen));
  return net;
}

Labels some_labels(std::size_t n) {
  Labels y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<std::int32_t>(i % 10);
  return y;
}

}  // namespace

TEST_CASE("the operator new counter of this test program counts", "[allocation]") {
  // Without this, a counter that never counts would pass every case below.
  const std::int64_t before = xgrad::testing::new_calls();
  auto p = std::make_unique<std::vector<int>>(10);
  CHECK(xgrad::testing::new_calls() - before == 2);
}

TEST_CASE("a warm training step of a small conv + BN + ReLU + pool + dense network calls operator new 0 times",
          "[allocation]") {
  Generator gen(7);
  auto net = small_conv_net(gen);
  SGD optimizer(net->named_parameters(), SGDOptions{.lr = 0.01, .momentum = 0.9});
  const Tensor x = randn({8, 1, 8, 8}, gen);
  const Labels y = some_labels(8);
  float loss_value = 0.0f;
  auto step = [&] {
    optimizer.zero_grad();
    Tensor loss = cross_entropy((*net)(x), y);
    loss.backward();
    optimizer.step();
    loss_value = loss.item();
  };
  const std::int64_t storage_misses = storage_pool_stats().misses;
  CHECK(new_calls_when_warm(step) == 0);
  CHECK(std::isfinite(loss_value));
  // Warm steps also take every data buffer from the storage pool's cache.
  for (int i = 0; i < 2; ++i) step();
  const std::int64_t warm_misses = storage_pool_stats().misses;
  step();
  CHECK(storage_pool_stats().misses == warm_misses);
  CHECK(warm_misses >= storage_misses);
}

TEST_CASE("a warm training step of the reference MNIST network with BN calls operator new 0 times",
          "[allocation]") {
  auto net = mnist_cnn(Normalization::Batch, 1);
  SGD optimizer(net->named_parameters(), SGDOptions{.lr = 0.01, .momentum = 0.9});
  Generator gen(3);
  const Tensor x = randn({16, 1, 28, 28}, gen);
  const Labels y = some_labels(16);
  CHECK(new_calls_when_warm([&] {
          optimizer.zero_grad();
          Tensor loss = cross_entropy((*net)(x), y);
          loss.backward();
          optimizer.step();
        }) == 0);
}

TEST_CASE("train_epoch's warm steps, with a shuffling data loader and a scheduler, call operator new 0 times",
          "[allocation]") {
  Generator gen(11);
  auto net = small_conv_net(gen);
  SGD optimizer(net->named_parameters(), SGDOptions{.lr = 0.01, .momentum = 0.9});
  CosineAnnealingLR scheduler(optimizer, 100);
  DataLoader loader(TensorDataset(randn({64, 1, 8, 8}, gen), some_labels(64)),
                    DataLoaderOptions{.batch_size = 8, .shuffle = true, .seed = 1});
  std::vector<std::int64_t> calls_after_step;  // reserved: recording must not allocate
  calls_after_step.reserve(64);
  EpochOptions options{.scheduler = &scheduler};
  options.on_step = [&](std::size_t, double) {
    calls_after_step.push_back(xgrad::testing::new_calls());
    return true;
  };
  train_epoch(*net, loader, optimizer, options);  // warms the pools
  calls_after_step.clear();
  options.epoch = 2;
  train_epoch(*net, loader, optimizer, options);
  REQUIRE(calls_after_step.size() == 8);
  // From the third step on, nothing between one step's end and the next's (the next batch included).
  CHECK(calls_after_step.back() - calls_after_step[2] == 0);
}

TEST_CASE("a warm inference step in eval mode under no-grad calls operator new 0 times", "[allocation]") {
  Generator gen(5);
  auto net = small_conv_net(gen);
  net->eval();
  const Tensor x = randn({8, 1, 8, 8}, gen);
  CHECK(new_calls_when_warm([&] {
          NoGradGuard no_grad;
          Tensor logits = (*net)(x);
        }) == 0);
}

TEST_CASE("the small-object pool hands a freed block back", "[allocation]") {
  void* a = detail::small_allocate(40);
  detail::small_deallocate(a, 40);
  const SmallObjectPoolStats before = small_object_pool_stats();
  void* b = detail::small_allocate(33);  // the same 48-byte class
  CHECK(b == a);
  CHECK(small_object_pool_stats().hits == before.hits + 1);
  detail::small_deallocate(b, 33);
  // Past the pooled sizes, blocks come from operator new and go back to it.
  const std::int64_t calls = xgrad::testing::new_calls();
  void* big = detail::small_allocate(detail::kSmallObjectMax + 1);
  CHECK(xgrad::testing::new_calls() == calls + 1);
  detail::small_deallocate(big, detail::kSmallObjectMax + 1);
}
