// Module::clone() (PyTorch's copy.deepcopy of a module): new storage with equal values for every library
// layer, Sequential and user modules; grads not copied, train/eval and requires_grad copied; training the
// copy leaves the original alone; a user module without clone() gets an error naming its class.
#include <catch2/catch.hpp>

#include <cstring>
#include <typeinfo>

#include "checkpoint_fixtures.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using Catch::Contains;

// Everything in a namespace of its own: the unit tests are compiled ten files to a translation unit.
namespace module_clone_test {

std::vector<std::uint32_t> bits(const Tensor& t) { return testing::bits(t); }

// The copy's state equals the original's to the bit, under the same names, in storage of its own.
void check_deep_copy(const Module& original, const Module& copy) {
  CHECK(typeid(copy) == typeid(original));
  CHECK(copy.describe() == original.describe());
  const StateDict a = original.state_dict(), b = copy.state_dict();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    CHECK(bits(a[i].second) == bits(b[i].second));
  }
  const auto live_a = original.named_parameters(), live_b = copy.named_parameters();
  for (std::size_t i = 0; i < live_a.size(); ++i) {
    CHECK(static_cast<const Tensor&>(live_a[i].second).data() != static_cast<const Tensor&>(live_b[i].second).data());
    CHECK(live_b[i].second.requires_grad() == live_a[i].second.requires_grad());
    CHECK_FALSE(live_b[i].second.grad().defined());
  }
  const auto buf_a = original.named_buffers(), buf_b = copy.named_buffers();
  for (std::size_t i = 0; i < buf_a.size(); ++i) {
    CHECK(static_cast<const Tensor&>(buf_a[i].second).data() != static_cast<const Tensor&>(buf_b[i].second).data());
  }
}

// A user module that overrides clone() the documented way.
class Block : public Module {
 public:
  explicit Block(std::uint64_t seed) : seed_(seed) {
    Generator gen(seed);
    conv = register_module("conv", std::make_shared<Conv2d>(2, 2, 3, 1, 1, gen));
    bn = register_module("bn", std::make_shared<BatchNorm2d>(2));
    scale = register_parameter("scale", ones({1}));
  }
  Tensor forward(const Tensor& x) override { return relu((*bn)((*conv)(x))) * scale + x; }
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<Block>(seed_)); }
  std::shared_ptr<Conv2d> conv;
  std::shared_ptr<BatchNorm2d> bn;
  Tensor scale;

 private:
  std::uint64_t seed_;
};

// One without clone().
class NoClone : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
};

// A Sequential subclass that forgot to override clone().
class MySequential : public Sequential {};

std::shared_ptr<Sequential> make_net(Generator& gen) {
  auto net = std::make_shared<Sequential>();
  net->add("block", std::make_shared<Block>(5));
  net->add(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 2, .out_channels = 4, .kernel_size = 3,
                                                  .padding = 1}, gen));
  net->add(std::make_shared<BatchNorm2d>(4));
  net->add(std::make_shared<ReLU>());
  net->add(std::make_shared<MaxPool2d>(2));
  net->add(std::make_shared<Residual>(std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
      std::make_shared<GroupNorm>(2, 4), std::make_shared<Tanh>()})));
  net->add(std::make_shared<Flatten>());
  net->add(std::make_shared<Dropout>(0.25f, gen));
  net->add(std::make_shared<Dense>(4 * 2 * 2, 3, gen));
  return net;
}


TEST_CASE("clone of a model: equal outputs to the bit, then training the copy leaves the original alone",
          "[module_api][clone]") {
  Generator gen(1);
  auto net = make_net(gen);
  const Tensor x = randn({3, 2, 4, 4}, gen), target = randn({3, 3}, gen);
  // Some history first: grads and moved running statistics on the original.
  mse_loss((*net)(x), target).backward();
  std::shared_ptr<Sequential> copy = clone_module(*net);
  check_deep_copy(*net, *copy);

  // In training mode too (Dropout's generator state is copied, BN uses batch statistics), then in eval.
  CHECK(bits((*copy)(x)) == bits((*net)(x)));
  net->eval();
  copy->eval();
  CHECK(bits((*copy)(x)) == bits((*net)(x)));
  net->train();
  copy->train();

  const StateDict before = net->state_dict();
  SGD opt(copy->named_parameters(), SGDOptions{.lr = 0.1, .momentum = 0.9});
  opt.zero_grad();
  mse_loss((*copy)(x), target).backward();
  opt.step();
  const StateDict after = net->state_dict();
  for (std::size_t i = 0; i < before.size(); ++i) CHECK(bits(after[i].second) == bits(before[i].second));
  CHECK(bits(copy->state_dict()[0].second) != bits(before[0].second));  // the copy did move
}

TEST_CASE("clone copies train/eval per module and requires_grad, not grads", "[module_api][clone]") {
  Generator gen(2);
  auto net = make_net(gen);
  net->eval();
  net->at<BatchNorm2d>(2)->train();  // a mixed tree
  net->named_parameters()[0].second.set_requires_grad(false);
  auto copy = net->clone();
  const auto a = net->named_modules(), b = copy->named_modules();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    CHECK(a[i].second->is_training() == b[i].second->is_training());
  }
  CHECK_FALSE(copy->named_parameters()[0].second.requires_grad());
  CHECK(copy->named_parameters()[1].second.requires_grad());
}

TEST_CASE("clone works for every library layer on its own", "[module_api][clone]") {
  Generator gen(3);
  auto scaler = std::make_shared<StandardScaler>();
  scaler->fit(randn({8, 3}, gen));
  auto minmax = std::make_shared<MinMaxScaler>(MinMaxScalerOptions{.feature_range = {-1.0f, 1.0f}});
  minmax->fit(randn({8, 3}, gen));
  const std::vector<std::shared_ptr<Module>> layers{
      std::make_shared<Dense>(3, 2, gen, false), std::make_shared<Conv2d>(2, 3, Size2(3, 1), 2, "valid", gen),
      std::make_shared<BatchNorm1d>(BatchNormOptions::keras(3)), std::make_shared<BatchNorm2d>(3),
      std::make_shared<BatchNorm3d>([] {
        BatchNormOptions o(2);
        o.affine = false;
        return o;
      }()),
      std::make_shared<LayerNorm>(Shape{3}), std::make_shared<GroupNorm>(1, 3), std::make_shared<ReLU>(),
      std::make_shared<LeakyReLU>(0.2f), std::make_shared<Sigmoid>(), std::make_shared<Tanh>(),
      std::make_shared<GELU>(), std::make_shared<Softmax>(-1), std::make_shared<MaxPool2d>(2, 1),
      std::make_shared<AvgPool2d>(3, 2, 1), std::make_shared<Flatten>(0), std::make_shared<Dropout>(0.1f, 4),
      std::make_shared<Identity>(), std::make_shared<MinMaxNorm>(1e-3f), std::make_shared<ZScoreNorm>(),
      scaler, minmax, std::make_shared<Sequential>(), std::make_shared<ModuleList>()};
  for (const auto& layer : layers) {
    INFO(layer->describe());
    check_deep_copy(*layer, *layer->clone());
  }
  // The fitted scaler's copy transforms alike and keeps fitting exactly as the original.
  auto copy = clone_module(*scaler);
  const Tensor more = randn({5, 3}, gen), probe = randn({4, 3}, gen);
  CHECK(bits(copy->transform(probe)) == bits(scaler->transform(probe)));
  scaler->partial_fit(more);
  copy->partial_fit(more);
  CHECK(bits(copy->mean()) == bits(scaler->mean()));
  CHECK(bits(copy->var()) == bits(scaler->var()));
}

TEST_CASE("clone: a module that cannot be cloned says so, naming its class", "[module_api][clone]") {
  NoClone plain;
  CHECK_THROWS_WITH(plain.clone(), Contains("NoClone: clone() is not defined") && Contains("clone_into"));
  Sequential holder{std::make_shared<ReLU>(), std::make_shared<NoClone>()};
  CHECK_THROWS_WITH(holder.clone(), Contains("NoClone"));
  MySequential derived;
  CHECK_THROWS_WITH(derived.clone(), Contains("clone() built a Sequential, not a MySequential"));
}

}  // namespace module_clone_test
