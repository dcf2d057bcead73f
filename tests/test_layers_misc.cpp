// Parameter-free layers (activations, pooling, dropout, flatten) and the Module machinery they rely on:
// dotted names, train()/eval() through nested Sequentials, zero_grad.
#include <catch2/catch.hpp>

#include <cmath>

#include "gradcheck.hpp"
#include "xgrad/layers/activations.hpp"
#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/layers/dense.hpp"
#include "xgrad/layers/dropout.hpp"
#include "xgrad/layers/flatten.hpp"
#include "xgrad/layers/pooling.hpp"
#include "xgrad/models/sequential.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::gradcheck;

TEST_CASE("activation layers apply their op (hand-computed values)", "[layers][activations]") {
  Tensor x{-1.0f, 0.0f, 2.0f};
  CHECK(ReLU()(x).to_vector() == std::vector<float>{0, 0, 2});
  CHECK(LeakyReLU(0.1f)(x).to_vector() == std::vector<float>{-0.1f, 0, 2});
  CHECK(LeakyReLU()(x).at({0}) == -0.01f);  // PyTorch's default slope
  CHECK(Sigmoid()(Tensor{0.0f}).item() == 0.5f);
  CHECK(Tanh()(Tensor{0.0f}).item() == 0.0f);
  // GELU(1) = Phi(1) = 0.8413447460685429 (exact form); GELU(-1) = -(1 - Phi(1)).
  Tensor g = GELU()(Tensor{1.0f, -1.0f});
  CHECK(g.at({0}) == Approx(0.8413447460685429).epsilon(1e-6));
  CHECK(g.at({1}) == Approx(-0.15865525393145707).epsilon(1e-5));
  // softmax(0, ln 2) = (1/3, 2/3), along dim 1 of a (2, 2) input.
  Tensor s = Softmax(1)(Tensor{{0.0f, std::log(2.0f)}, {5.0f, 5.0f}});
  CHECK(s.at({0, 0}) == Approx(1.0 / 3.0));
  CHECK(s.at({0, 1}) == Approx(2.0 / 3.0));
  CHECK(s.at({1, 0}) == Approx(0.5));

  CHECK(ReLU().describe() == "ReLU()");
  CHECK(LeakyReLU(0.2f).describe() == "LeakyReLU(negative_slope=0.2)");
  CHECK(GELU().describe() == "GELU()");
  CHECK(Softmax(-1).describe() == "Softmax(dim=-1)");
  CHECK(ReLU().parameter_count() == 0);
}

TEST_CASE("activation layers pass gradients through", "[layers][activations][gradcheck]") {
  Generator gen(1);
  Tensor x = randn({3, 4}, gen).set_requires_grad();
  Sequential net{std::make_shared<GELU>(), std::make_shared<Tanh>(), std::make_shared<Softmax>(1)};
  // Smooth functions of O(1) inputs: float32 forward error ~1e-7 over 2h = 2e-2 is far under atol 1e-3.
  auto r = gradcheck([&](const std::vector<Tensor>& in) { return net(in[0]); }, {x});
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("Softmax: an out-of-range dim names the layer and the shape", "[layers][activations][errors]") {
  CHECK_THROWS_WITH(Softmax(2)(zeros({3, 4})), Catch::Contains("Softmax(dim=2)") && Catch::Contains("(3, 4)"));
  CHECK_THROWS_WITH(LeakyReLU(NAN), Catch::Contains("LeakyReLU") && Catch::Contains("nan"));
}

TEST_CASE("pooling layers: values, output sizes and descriptions", "[layers][pooling]") {
  Tensor x = reshape(arange(16.0f), {1, 1, 4, 4});
  CHECK(MaxPool2d(2)(x).to_vector() == std::vector<float>{5, 7, 13, 15});
  CHECK(AvgPool2d(2)(x).to_vector() == std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f});
  // (4 + 2 - 3) / 1 + 1 = 4 with stride 1 and padding 1.
  CHECK(MaxPool2d(3, 1, 1)(x).shape() == Shape{1, 1, 4, 4});
  CHECK(AvgPool2d(Pool2dOptions{.kernel_size = {2, 4}, .stride = Size2(2, 1)})(x).shape() == Shape{1, 1, 2, 1});
  CHECK(MaxPool2d(2).describe() == "MaxPool2d(kernel_size=2, stride=2, padding=0)");
  CHECK(AvgPool2d(3, Size2(1, 2), 1).describe() == "AvgPool2d(kernel_size=3, stride=(1, 2), padding=1)");
}

TEST_CASE("pooling layers: errors name the layer and the shape", "[layers][pooling][errors]") {
  CHECK_THROWS_WITH(MaxPool2d(2)(zeros({4, 4})), Catch::Contains("MaxPool2d(kernel_size=2") &&
                                                     Catch::Contains("(N, C, H, W)") && Catch::Contains("(4, 4)"));
  CHECK_THROWS_WITH(AvgPool2d(3)(zeros({1, 1, 2, 2})), Catch::Contains("AvgPool2d(kernel_size=3") &&
                                                           Catch::Contains("(1, 1, 2, 2)"));
  CHECK_THROWS_WITH(MaxPool2d(2, std::nullopt, 2), Catch::Contains("MaxPool2d") && Catch::Contains("padding 2"));
  CHECK_THROWS_WITH(AvgPool2d(0), Catch::Contains("AvgPool2d") && Catch::Contains("kernel_size 0"));
}

TEST_CASE("Dropout: masks in train(), the identity in eval()", "[layers][dropout]") {
  Tensor x = ones({100, 100});
  Dropout drop(0.25f, 11);
  CHECK(drop.is_training());
  std::vector<float> y = drop(x).to_vector();
  std::size_t zeros_count = 0, kept_count = 0;
  for (float v : y) {
    zeros_count += v == 0.0f;
    kept_count += v == 1.0f / 0.75f;  // kept values are scaled by 1 / (1 - p)
  }
  CHECK(zeros_count + kept_count == y.size());
  // 10,000 Bernoulli(0.25) draws: mean 2,500, sd 43; 5 sd either side.
  CHECK(zeros_count > 2500 - 217);
  CHECK(zeros_count < 2500 + 217);

  drop.eval();
  CHECK(drop(x).to_vector() == x.to_vector());

  // The same seed gives the same masks; layers forked from one generator differ from each other.
  Dropout a(0.5f, 3), b(0.5f, 3);
  CHECK(a(x).to_vector() == b(x).to_vector());
  Generator gen(4);
  Dropout c(0.5f, gen), d(0.5f, gen);
  CHECK(c(x).to_vector() != d(x).to_vector());
  CHECK(Dropout(0.5f).describe() == "Dropout(p=0.5)");
  CHECK_THROWS_WITH(Dropout(1.0f), Catch::Contains("Dropout") && Catch::Contains("got 1"));
  CHECK_THROWS_WITH(Dropout(-0.1f), Catch::Contains("Dropout") && Catch::Contains("got -0.1"));
}

TEST_CASE("Flatten: merges start_dim..end_dim and checks the rank", "[layers][flatten]") {
  Tensor x = zeros({2, 3, 4, 5});
  CHECK(Flatten()(x).shape() == Shape{2, 60});
  CHECK(Flatten(0)(x).shape() == Shape{120});
  CHECK(Flatten(1, 2)(x).shape() == Shape{2, 12, 5});
  CHECK(Flatten(-3, -2)(x).shape() == Shape{2, 12, 5});
  Tensor v = reshape(arange(6.0f), {1, 2, 3});
  CHECK(Flatten()(v).to_vector() == v.to_vector());
  CHECK(Flatten().describe() == "Flatten(start_dim=1, end_dim=-1)");
  CHECK_THROWS_WITH(Flatten()(zeros({5})), Catch::Contains("Flatten(start_dim=1, end_dim=-1)") &&
                                               Catch::Contains("rank > 1") && Catch::Contains("(5)"));
  CHECK_THROWS_WITH(Flatten(2, 1)(x), Catch::Contains("Flatten(start_dim=2, end_dim=1)") &&
                                          Catch::Contains("(2, 3, 4, 5)"));
}

TEST_CASE("named_parameters and named_buffers use dotted names through nested Sequentials", "[layers][module]") {
  Generator gen(5);
  Sequential inner{std::make_shared<Dense>(4, 3, gen), std::make_shared<BatchNorm1d>(3), std::make_shared<ReLU>()};
  Sequential model;
  model.add("features", std::make_shared<Sequential>(inner));
  model.add(std::make_shared<Dense>(3, 2, gen));  // named by position: "1"
  std::vector<std::string> names;
  for (const auto& [name, t] : model.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"features.0.weight", "features.0.bias", "features.1.weight",
                                          "features.1.bias", "1.weight", "1.bias"});
  std::vector<std::string> buffers;
  for (const auto& [name, t] : model.named_buffers()) buffers.push_back(name);
  CHECK(buffers == std::vector<std::string>{"features.1.running_mean", "features.1.running_var",
                                            "features.1.num_batches_tracked"});
  CHECK(model.parameter_count() == (12 + 3) + (3 + 3) + (6 + 2));
}

TEST_CASE("train() and eval() reach every module of nested Sequentials", "[layers][module]") {
  auto drop = std::make_shared<Dropout>(0.5f, 1);
  auto inner = std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{std::make_shared<ReLU>(), drop});
  Sequential model{inner, std::make_shared<Flatten>()};
  auto all_training = [&](bool on) {
    return model.is_training() == on && inner->is_training() == on && drop->is_training() == on &&
           model[1]->is_training() == on;
  };
  CHECK(all_training(true));
  model.eval();
  CHECK(all_training(false));
  Tensor x = ones({4, 8});
  CHECK(model(x).to_vector() == x.to_vector());  // dropout off
  model.train();
  CHECK(all_training(true));
  CHECK(model(x).to_vector() != x.to_vector());  // dropout on
}

TEST_CASE("zero_grad clears every parameter's gradient", "[layers][module]") {
  Generator gen(6);
  Sequential model{std::make_shared<Dense>(3, 4, gen), std::make_shared<Tanh>(), std::make_shared<Dense>(4, 2, gen)};
  sum(model(randn({5, 3}, gen))).backward();
  for (const auto& [name, p] : model.named_parameters()) {
    INFO(name);
    REQUIRE(p.grad().defined());
    float total = 0;
    for (float g : p.grad().to_vector()) total += std::fabs(g);
    CHECK(total > 0.0f);
  }
  model.zero_grad();
  for (const auto& [name, p] : model.named_parameters()) {
    for (float g : p.grad().to_vector()) CHECK(g == 0.0f);
  }
}
