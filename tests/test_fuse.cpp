// Conv/Dense + BatchNorm folding: hand-computed folded values, equality of fused and unfused outputs in
// eval mode, the fused model's structure, and the errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "xgrad/layers/activations.hpp"
#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/layers/conv2d.hpp"
#include "xgrad/layers/dense.hpp"
#include "xgrad/layers/dropout.hpp"
#include "xgrad/layers/flatten.hpp"
#include "xgrad/layers/identity.hpp"
#include "xgrad/layers/pooling.hpp"
#include "xgrad/models/conv_bn_act.hpp"
#include "xgrad/models/fuse.hpp"
#include "xgrad/models/sequential.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

namespace {

void fill(Tensor t, const std::vector<float>& values) {
  REQUIRE(values.size() == t.numel());
  std::copy(values.begin(), values.end(), t.data());
}

// Gives every BatchNorm non-trivial statistics and affine parameters: a few training passes, then random
// gamma and beta in [0.5, 1.5).
void warm_up(Sequential& model, const Shape& input_shape, Generator& gen) {
  model.train();
  NoGradGuard no_grad;
  for (int step = 0; step < 3; ++step) model(add(mul(randn(input_shape, gen), 2.0f), 0.5f));
  for (auto [name, p] : model.named_parameters()) {
    if (p.dim() == 1) {  // BatchNorm gamma and beta, and layer biases
      for (std::size_t i = 0; i < p.numel(); ++i) p.data()[i] = 0.5f + gen.uniform();
    }
  }
  model.eval();
}

}  // namespace

TEST_CASE("fuse_conv_bn_eval folds the statistics into weight and bias (hand-computed)", "[fuse]") {
  Generator gen(1);
  Conv2d conv(1, 1, 1, gen);
  fill(conv.weight(), {2.0f});
  fill(conv.bias(), {1.0f});
  BatchNorm2d bn(BatchNormOptions(1));
  fill(bn.running_mean(), {3.0f});
  fill(bn.running_var(), {4.0f});
  fill(bn.weight(), {0.5f});
  fill(bn.bias(), {0.25f});
  bn.eval();
  // s = 0.5 / sqrt(4 + 1e-5) = 0.2499996875; W' = 2 s; b' = (1 - 3) s + 0.25.
  const double s = 0.5 / std::sqrt(4.0 + double(1e-5f));
  auto fused = fuse_conv_bn_eval(conv, bn);
  CHECK(fused->weight().item() == static_cast<float>(2.0 * s));
  CHECK(fused->bias().item() == static_cast<float>(-2.0 * s + 0.25));
  CHECK(fused->options().kernel_size == Size2(1));

  // Without a conv bias and without affine: W' = W / sqrt(var + eps), b' = -mean / sqrt(var + eps).
  Conv2d no_bias(Conv2dOptions{.in_channels = 1, .out_channels = 1, .kernel_size = 1, .bias = false}, gen);
  fill(no_bias.weight(), {2.0f});
  BatchNormOptions plain(1);
  plain.affine = false;
  BatchNorm2d bn_plain(plain);
  fill(bn_plain.running_mean(), {3.0f});
  fill(bn_plain.running_var(), {4.0f});
  bn_plain.eval();
  auto fused_plain = fuse_conv_bn_eval(no_bias, bn_plain);
  REQUIRE(fused_plain->bias().defined());
  CHECK(fused_plain->weight().item() == static_cast<float>(2.0 / std::sqrt(4.0 + double(1e-5f))));
  CHECK(fused_plain->bias().item() == static_cast<float>(-3.0 / std::sqrt(4.0 + double(1e-5f))));
}

TEST_CASE("fused Conv2d and Dense give the unfused outputs in eval mode", "[fuse]") {
  Generator gen(2);
  auto conv = std::make_shared<Conv2d>(
      Conv2dOptions{.in_channels = 3, .out_channels = 6, .kernel_size = 3, .stride = 2, .padding = 1}, gen);
  auto bn = std::make_shared<BatchNorm2d>(6);
  Sequential pair{conv, bn};
  warm_up(pair, {4, 3, 7, 7}, gen);
  Tensor x = randn({2, 3, 7, 7}, gen);
  Tensor expected = pair(x);
  Tensor got = (*fuse_conv_bn_eval(*conv, *bn))(x);
  REQUIRE(got.shape() == expected.shape());
  // Two float32 roundings of O(1) values on each path: agreement to ~1e-6; the contract is 1e-5.
  for (std::size_t i = 0; i < got.numel(); ++i) REQUIRE(got.data()[i] == Approx(expected.data()[i]).margin(1e-5));

  auto dense = std::make_shared<Dense>(5, 4, gen);
  auto bn1 = std::make_shared<BatchNorm1d>(4);
  Sequential dense_pair{dense, bn1};
  warm_up(dense_pair, {8, 5}, gen);
  Tensor v = randn({3, 5}, gen);
  Tensor expected_v = dense_pair(v);
  Tensor got_v = (*fuse_linear_bn_eval(*dense, *bn1))(v);
  for (std::size_t i = 0; i < got_v.numel(); ++i) REQUIRE(got_v.data()[i] == Approx(expected_v.data()[i]).margin(1e-5));
}

TEST_CASE("fuse_conv_bn on a nested Sequential: same outputs, BatchNorms become Identity (or their fused ReLU)",
          "[fuse]") {
  Generator gen(3);
  Sequential model;
  model.add("stem", conv_bn_act(3, 8, 3, std::make_shared<ReLU>(), gen));
  model.add("block", conv_bn_act(8, 8, 3, std::make_shared<LeakyReLU>(0.1f), gen, ConvBnActOptions{.stride = 2}));
  model.add("pool", std::make_shared<MaxPool2d>(2));
  model.add("flat", std::make_shared<Flatten>());
  model.add("fc", std::make_shared<Dense>(8 * 2 * 2, 16, gen));
  model.add("fc_bn", std::make_shared<BatchNorm1d>(16));
  model.add("drop", std::make_shared<Dropout>(0.5f, 1));
  model.add("out", std::make_shared<Dense>(16, 3, gen));
  warm_up(model, {6, 3, 8, 8}, gen);

  auto fused = fuse_conv_bn(model);
  CHECK(!fused->is_training());
  Tensor x = randn({4, 3, 8, 8}, gen);
  Tensor expected = model(x), got = (*fused)(x);
  REQUIRE(got.shape() == Shape{4, 3});
  for (std::size_t i = 0; i < got.numel(); ++i) CHECK(got.data()[i] == Approx(expected.data()[i]).margin(1e-5));

  // Names and positions are kept; BatchNorm parameters and buffers are gone; the rest is shared.
  std::vector<std::string> names;
  for (const auto& [name, t] : fused->named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"stem.0.weight", "stem.0.bias", "block.0.weight", "block.0.bias",
                                          "fc.weight", "fc.bias", "out.weight", "out.bias"});
  CHECK(fused->named_buffers().empty());
  auto stem = fused->at<Sequential>(0);
  // The stem's BatchNorm had its ReLU fused (conv_bn_act): a ReLU takes its place; the block's had none.
  CHECK(stem->at<ReLU>(1) != nullptr);
  CHECK(stem->at<Identity>(2) != nullptr);
  CHECK(fused->at<Sequential>(1)->at<Identity>(1) != nullptr);
  CHECK(fused->at<Sequential>(1)->at<LeakyReLU>(2) != nullptr);
  CHECK(stem->at<Conv2d>(0)->describe() == "Conv2d(3, 8, kernel_size=3, stride=1, padding=1)");
  CHECK(fused->at<Identity>(5) != nullptr);
  CHECK(fused->size() == model.size());
  CHECK(fused->at<Dense>(7) == model.at<Dense>(7));
  // The original model is untouched and still computes the same.
  CHECK(model.at<Sequential>(0)->at<Conv2d>(0)->bias().defined() == false);
  CHECK(model(x).to_vector() == expected.to_vector());
}

TEST_CASE("fuse_conv_bn errors name the module and the reason", "[fuse][errors]") {
  Generator gen(4);
  Sequential model{conv_bn_act(1, 2, 3, nullptr, gen)};
  CHECK_THROWS_WITH(fuse_conv_bn(model), Catch::Contains("fuse_conv_bn") && Catch::Contains("training mode") &&
                                             Catch::Contains("eval()"));

  Conv2d conv(1, 4, 3, gen);
  BatchNorm2d bn2(2);
  bn2.eval();
  CHECK_THROWS_WITH(fuse_conv_bn_eval(conv, bn2), Catch::Contains("BatchNorm2d(2") && Catch::Contains("2 channels") &&
                                                      Catch::Contains("Conv2d(1, 4") && Catch::Contains("outputs 4"));
  BatchNorm1d bn1(4);
  bn1.eval();
  CHECK_THROWS_WITH(fuse_conv_bn_eval(conv, bn1), Catch::Contains("Conv2d(1, 4") &&
                                                      Catch::Contains("must be followed by a BatchNorm2d") &&
                                                      Catch::Contains("BatchNorm1d(4"));
  Dense dense(3, 4, gen);
  BatchNorm2d bn4(4);
  bn4.eval();
  CHECK_THROWS_WITH(fuse_linear_bn_eval(dense, bn4), Catch::Contains("Dense(in_features=3") &&
                                                         Catch::Contains("BatchNorm1d"));
  BatchNormOptions untracked(4);
  untracked.track_running_stats = false;
  BatchNorm2d no_stats(untracked);
  no_stats.eval();
  CHECK_THROWS_WITH(fuse_conv_bn_eval(conv, no_stats), Catch::Contains("track_running_stats=false"));
  BatchNorm2d training(4);
  CHECK_THROWS_WITH(fuse_conv_bn_eval(conv, training), Catch::Contains("BatchNorm2d(4") &&
                                                           Catch::Contains("training mode"));
}
