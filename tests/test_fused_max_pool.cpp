// BatchNormOptions::fused_max_pool, the user-facing side of batch_norm_relu_max_pool2d: the reference
// networks with BatchNorm train to the same bits as the same networks with the MaxPool2d(2) apart (at 1
// and 2 threads, on the kernel path this CPU takes); names, positions and checkpoints stay those of the
// unfused networks; summary() shows the fusion; fuse_conv_bn and SyncBatchNorm keep the pool; bad options
// and inputs are errors that say what is wrong.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/core/tensor_impl.hpp"
#include "xgrad/layers/summary.hpp"
#include "checkpoint_fixtures.hpp"
#include "fast_paths.hpp"
#include "tensor_checks.hpp"
#include "xgrad/xgrad.hpp"
#ifdef XGRAD_HAVE_MPI
#include "xgrad/distributed/sync_batch_norm.hpp"
#endif

using namespace xgrad;
using namespace xgrad::testing;

// A named namespace: the unit tests are compiled ten files to a unit (unity build).
namespace fused_max_pool_test {

// The same network with every fused max pool taken out of its BatchNorm: a BatchNorm2d with only
// fused_relu (same parameters and buffers) and a MaxPool2d(2) in the Identity's place after the ReLU's.
void unfuse_pools(Sequential& net) {
  const auto children = net.children();  // a copy: modules are replaced below
  for (std::size_t i = 0; i < children.size(); ++i) {
    const auto& [name, m] = children[i];
    if (auto* seq = dynamic_cast<Sequential*>(m.get())) unfuse_pools(*seq);
    auto* bn = dynamic_cast<BatchNorm2d*>(m.get());
    if (!bn || !bn->options().fused_max_pool) continue;
    BatchNormOptions options = bn->options();
    options.fused_max_pool = false;
    auto plain = std::make_shared<BatchNorm2d>(options);
    plain->load_state_dict(bn->state_dict());
    net.replace_module(name, plain);
    REQUIRE(dynamic_cast<Identity*>(children.at(i + 2).second.get()) != nullptr);
    net.replace_module(children[i + 2].first, std::make_shared<MaxPool2d>(2));
  }
}

// Trains `net` for 3 SGD steps (momentum, Nesterov: train_mnist's optimizer) on random images; returns
// its state (parameters and buffers) and the last step's logits.
std::vector<std::vector<float>> train(Sequential& net, const Shape& image, int threads) {
  set_num_threads(threads);
  SGD sgd(net.named_parameters(), SGDOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true});
  Generator gen(7);
  Shape batch{6};
  batch.insert(batch.end(), image.begin(), image.end());
  std::vector<std::vector<float>> out;
  Tensor logits;
  for (int step = 0; step < 3; ++step) {
    const Tensor x = randn(batch, gen);
    const Labels labels{0, 3, 9, 1, 3, 7};
    sgd.zero_grad();
    logits = net(x);
    cross_entropy(logits, labels).backward();
    sgd.step();
  }
  out.push_back(logits.to_vector());
  for (const auto& [name, t] : net.state_dict()) out.push_back(t.to_vector());
  set_num_threads(1);
  return out;
}

bool all_same_bits(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same_bits(a[i], b[i])) return false;
  }
  return true;
}

std::size_t count_fused_pools(const Module& m) {
  std::size_t n = 0;
  if (auto* bn = dynamic_cast<const BatchNorm*>(&m)) n += bn->options().fused_max_pool;
  for (const auto& [name, child] : m.children()) n += count_fused_pools(*child);
  return n;
}

}  // namespace fused_max_pool_test

using namespace fused_max_pool_test;

TEST_CASE("The reference networks with fused max pools train to the bits of the same networks with the pools "
          "apart", "[batch_norm][pool][fused_max_pool]") {
  struct Net {
    const char* name;
    std::shared_ptr<Sequential> (*make)(Normalization, std::uint64_t);
    Shape image;
    std::size_t pools;
  };
  // ResNet-9 builds its pools with the same code (add_conv_block); its training is too slow for a unit test.
  CHECK(count_fused_pools(*resnet9(Normalization::Batch, 3)) == 3);
  for (const Net& n : {Net{"mnist_cnn", mnist_cnn, {1, 28, 28}, 2}, Net{"cifar_cnn", cifar_cnn, {3, 32, 32}, 3}}) {
    // The path this CPU takes, and for MNIST the portable loops too (the twins' arithmetic differs).
    struct Run {
      int threads;
      bool portable;
    };
    for (const auto [threads, portable] : {Run{1, false}, Run{2, false}, Run{2, true}}) {
      if (portable && std::string(n.name) != "mnist_cnn") continue;
      FastPaths paths(!portable && kernels::fast_paths_enabled());
      INFO(n.name << ", " << threads << " threads, AVX-512 " << kernels::fast_paths_enabled());
      auto fused = n.make(Normalization::Batch, 3);
      auto apart = n.make(Normalization::Batch, 3);
      CHECK(count_fused_pools(*fused) == n.pools);
      unfuse_pools(*apart);
      CHECK(count_fused_pools(*apart) == 0);
      CHECK(all_same_bits(train(*fused, n.image, threads), train(*apart, n.image, threads)));
    }
  }
}

TEST_CASE("A network with fused max pools keeps the names, positions and checkpoints of the unfused one",
          "[batch_norm][pool][fused_max_pool]") {
  auto fused = mnist_cnn(Normalization::Batch, 5);
  auto apart = mnist_cnn(Normalization::Batch, 5);
  unfuse_pools(*apart);
  const StateDict a = apart->state_dict(), f = fused->state_dict();
  REQUIRE(a.size() == f.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].first == f[i].first);
  CHECK(fused->size() == apart->size());
  // Where the pool was: an Identity; the other networks keep their MaxPool2d.
  CHECK(fused->at<BatchNorm2d>(1)->options().fused_max_pool);
  CHECK(fused->at<Identity>(3) != nullptr);
  CHECK(apart->at<MaxPool2d>(3) != nullptr);
  CHECK(mnist_cnn(Normalization::Group, 5)->at<MaxPool2d>(3) != nullptr);
  CHECK(!mnist_cnn(Normalization::Batch, 5)->at<BatchNorm1d>(10)->options().fused_max_pool);
  // A checkpoint of the unfused network (what builds before the fusion saved) loads into the fused one.
  Generator gen(6);
  for (auto& [name, t] : apart->named_parameters()) randomize(t, 100 + name.size());
  const TempDir dir;
  save_checkpoint(dir.file("unfused.json"), *apart);
  load_checkpoint(dir.file("unfused.json"), *fused);
  fused->eval();
  apart->eval();
  const Tensor x = randn({2, 1, 28, 28}, gen);
  CHECK(same_bits((*fused)(x).to_vector(), (*apart)(x).to_vector()));
}

TEST_CASE("summary() shows the fused max pool and the pooled shape", "[batch_norm][pool][fused_max_pool]") {
  auto net = mnist_cnn(Normalization::Batch, 1);
  const std::string table = summary(*net, {2, 1, 28, 28});
  INFO(table);
  CHECK(table.find("BatchNorm2d(16, eps=1e-05, momentum=0.1, fused_relu=True, fused_max_pool=True)") !=
        std::string::npos);
  CHECK(table.find("(2, 16, 14, 14)") != std::string::npos);
  CHECK(table.find("MaxPool2d") == std::string::npos);
}

TEST_CASE("fuse_conv_bn leaves a ReLU and a MaxPool2d(2) where a BatchNorm had them fused",
          "[batch_norm][pool][fused_max_pool]") {
  auto fused = mnist_cnn(Normalization::Batch, 2);
  auto apart = mnist_cnn(Normalization::Batch, 2);
  unfuse_pools(*apart);
  Generator gen(8);
  for (auto* net : {fused.get(), apart.get()}) {
    for (auto& [name, t] : net->named_buffers()) {
      if (name.find("running_mean") != std::string::npos) randomize(t, 9);
    }
    net->eval();
  }
  auto folded = fuse_conv_bn(*fused);
  CHECK(folded->at<Sequential>(1)->at<MaxPool2d>(1) != nullptr);
  const Tensor x = randn({3, 1, 28, 28}, gen);
  CHECK(same_bits((*folded)(x).to_vector(), (*fuse_conv_bn(*apart))(x).to_vector()));
}

TEST_CASE("fused_max_pool: bad options and inputs are errors naming them", "[batch_norm][pool][fused_max_pool]") {
  using Catch::Matchers::Contains;
  BatchNormOptions o(4);
  o.fused_max_pool = true;
  CHECK_THROWS_WITH(BatchNorm2d(o), Contains("fused_max_pool needs fused_relu"));
  o.fused_relu = true;
  CHECK_THROWS_WITH(BatchNorm1d(o), Contains("BatchNorm1d") && Contains("only BatchNorm2d"));
  CHECK_THROWS_WITH(BatchNorm3d(o), Contains("BatchNorm3d"));
  BatchNorm2d bn(o);
  CHECK(bn(zeros({2, 4, 6, 8})).shape() == Shape{2, 4, 3, 4});
  CHECK_THROWS_WITH(bn(zeros({2, 4, 7, 8})), Contains("BatchNorm2d(4") && Contains("(2, 4, 7, 8)") &&
                                                 Contains("even height and width"));
  CHECK_THROWS_WITH(bn(zeros({2, 4})), Contains("(2, 4)"));
  CHECK_THROWS_AS(bn(zeros({2, 4, 7, 8})), Error);
}

#ifdef XGRAD_HAVE_MPI
TEST_CASE("SyncBatchNorm converted from a BatchNorm with a fused max pool pools too",
          "[batch_norm][pool][fused_max_pool]") {
  auto net = mnist_cnn(Normalization::Batch, 4);
  auto apart = mnist_cnn(Normalization::Batch, 4);
  unfuse_pools(*apart);
  CHECK(distributed::convert_sync_batchnorm(*net, distributed::Communicator{}) == 3);
  CHECK(distributed::convert_sync_batchnorm(*apart, distributed::Communicator{}) == 3);
  Generator gen(10);
  const Tensor x = randn({4, 1, 28, 28}, gen);
  const Tensor y = (*net)(x), z = (*apart)(x);
  CHECK(y.shape() == Shape{4, 10});
  CHECK(same_bits(y.to_vector(), z.to_vector()));
}
#endif
