// Sequential (naming, indexing, forward), conv_bn_act blocks and summary().
#include <catch2/catch.hpp>

#include "xgrad/layers/activations.hpp"
#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/layers/conv2d.hpp"
#include "xgrad/layers/dense.hpp"
#include "xgrad/layers/flatten.hpp"
#include "xgrad/layers/identity.hpp"
#include "xgrad/layers/pooling.hpp"
#include "xgrad/layers/summary.hpp"
#include "xgrad/models/conv_bn_act.hpp"
#include "xgrad/models/sequential.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

namespace {

// A module with a parameter of its own and a child: summary() must list it too.
class ScaledReLU : public Module {
 public:
  ScaledReLU() {
    scale_ = register_parameter("scale", full({1}, 2.0f));
    register_module("act", std::make_shared<ReLU>());
  }
  Tensor forward(const Tensor& x) override { return (*children()[0].second)(x) * scale_; }
  std::string describe() const override { return "ScaledReLU()"; }

 private:
  Tensor scale_;
};

std::vector<std::string> child_names(const Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, child] : m.children()) names.push_back(name);
  return names;
}

}  // namespace

TEST_CASE("Sequential: children are named by position and indexable", "[sequential]") {
  Generator gen(1);
  auto first = std::make_shared<Dense>(4, 3, gen);
  Sequential seq{first, std::make_shared<ReLU>(), std::make_shared<Dense>(3, 2, gen)};
  CHECK(seq.size() == 3);
  CHECK(child_names(seq) == std::vector<std::string>{"0", "1", "2"});
  CHECK(seq[0] == first);
  CHECK(seq.at<Dense>(0) == first);
  CHECK(seq[1]->describe() == "ReLU()");
  CHECK(seq.describe() == "Sequential(3 modules)");

  auto added = seq.add(std::make_shared<Sigmoid>());  // typed handle back
  static_assert(std::is_same_v<decltype(added), std::shared_ptr<Sigmoid>>);
  seq.add("head", std::make_shared<Softmax>(1));
  CHECK(child_names(seq) == std::vector<std::string>{"0", "1", "2", "3", "head"});
  CHECK(seq[4]->describe() == "Softmax(dim=1)");

  Sequential named({{"encoder", std::make_shared<Dense>(2, 2, gen)}, {"act", std::make_shared<Tanh>()}});
  CHECK(child_names(named) == std::vector<std::string>{"encoder", "act"});
  CHECK(named.named_parameters()[0].first == "encoder.weight");
}

TEST_CASE("Sequential: forward chains the modules, empty is the identity", "[sequential]") {
  Generator gen(2);
  auto dense = std::make_shared<Dense>(3, 4, gen);
  Sequential seq{dense, std::make_shared<ReLU>()};
  Tensor x = randn({5, 3}, gen);
  CHECK(seq(x).to_vector() == relu(linear(x, dense->weight(), dense->bias())).to_vector());
  Sequential empty_seq;
  CHECK(empty_seq(x).to_vector() == x.to_vector());
}

TEST_CASE("Sequential: errors name the index, the module and the clash", "[sequential][errors]") {
  Generator gen(3);
  Sequential seq{std::make_shared<Dense>(4, 3, gen), std::make_shared<ReLU>()};
  CHECK_THROWS_WITH(seq[2], Catch::Contains("Sequential") && Catch::Contains("index 2") &&
                                Catch::Contains("2 modules"));
  CHECK_THROWS_WITH(seq.at<Conv2d>(1), Catch::Contains("Sequential") && Catch::Contains("ReLU()") &&
                                           Catch::Contains("module 1"));
  CHECK_THROWS_WITH(seq.add("1", std::make_shared<Tanh>()), Catch::Contains("'1'") &&
                                                               Catch::Contains("already registered"));
  CHECK_THROWS_WITH(seq.add("a.b", std::make_shared<Tanh>()), Catch::Contains("'a.b'"));
  // A wrong input reports the layer that rejects it.
  CHECK_THROWS_WITH(seq(zeros({2, 5})), Catch::Contains("Dense(in_features=4") && Catch::Contains("(2, 5)"));
}

TEST_CASE("conv_bn_act builds Conv2d(bias=false) -> BatchNorm2d -> activation, a ReLU fused into the BatchNorm",
          "[sequential][conv_bn_act]") {
  Generator gen(4);
  auto block = conv_bn_act(3, 8, 3, std::make_shared<ReLU>(), gen);
  REQUIRE(block->size() == 3);
  auto conv = block->at<Conv2d>(0);
  CHECK(!conv->bias().defined());
  CHECK(conv->padding() == Size2(1));
  CHECK(block->at<BatchNorm2d>(1)->options().num_features == 8);
  // The ReLU runs inside the BatchNorm's op; an Identity keeps its place. Another activation stays apart.
  CHECK(block->at<BatchNorm2d>(1)->options().fused_relu);
  CHECK(block->at<Identity>(2) != nullptr);
  auto leaky = conv_bn_act(3, 8, 3, std::make_shared<LeakyReLU>(0.1f), gen);
  CHECK(!leaky->at<BatchNorm2d>(1)->options().fused_relu);
  CHECK(leaky->at<LeakyReLU>(2) != nullptr);
  std::vector<std::string> names;
  for (const auto& [name, t] : block->named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"0.weight", "1.weight", "1.bias"});

  Tensor x = randn({2, 3, 9, 9}, gen);
  Tensor y = (*block)(x);
  CHECK(y.shape() == Shape{2, 8, 9, 9});
  const std::vector<float> values = y.to_vector();
  CHECK(*std::min_element(values.begin(), values.end()) == 0.0f);  // after the ReLU

  // Stride 2 with the default padding (k - 1) / 2 halves (rounding up); no activation gives two modules.
  auto strided = conv_bn_act(3, 4, 5, nullptr, gen, ConvBnActOptions{.stride = 2});
  CHECK(strided->size() == 2);
  CHECK((*strided)(x).shape() == Shape{2, 4, 5, 5});
  BatchNormOptions bn = BatchNormOptions::keras(0);
  auto keras_like = conv_bn_act(3, 4, 1, std::make_shared<GELU>(), gen, ConvBnActOptions{.batch_norm = bn});
  CHECK(keras_like->at<BatchNorm2d>(1)->options().eps == bn.eps);
  CHECK(keras_like->at<BatchNorm2d>(1)->options().num_features == 4);
}

TEST_CASE("summary lists each layer's name, description, output shape and parameters", "[sequential][summary]") {
  Generator gen(5);
  Sequential model{
      std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 1, .out_channels = 4, .kernel_size = 3, .padding = "same"},
                               gen),
      std::make_shared<BatchNorm2d>(4), std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2),
      std::make_shared<Flatten>(), std::make_shared<Dense>(64, 10, gen)};
  const std::string table = summary(model, {1, 1, 8, 8});
  INFO(table);
  // Parameters: conv 4*1*3*3 + 4 = 40, batch norm 4 + 4 = 8, dense 64*10 + 10 = 650; total 698.
  // Buffers: running_mean 4 + running_var 4 + num_batches_tracked 1 = 9.
  for (const char* text :
       {"Layer", "Output shape", "Param #", "Conv2d(1, 4, kernel_size=3, stride=1, padding=\"same\")",
        "(1, 4, 8, 8)", "BatchNorm2d(4", "MaxPool2d(kernel_size=2, stride=2, padding=0)", "(1, 4, 4, 4)",
        "Flatten(start_dim=1, end_dim=-1)", "(1, 64)", "Dense(in_features=64, out_features=10, bias=true)",
        "(1, 10)", "650", "Input shape: (1, 1, 8, 8)", "Total params: 698", "Trainable params: 698",
        "Non-trainable params: 0", "Buffer values (running statistics etc.): 9"}) {
    CHECK_THAT(table, Catch::Contains(text));
  }
  // One row per leaf, in call order, each starting with its name.
  std::vector<std::string> lines;
  std::istringstream in(table);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 2 + 6 + 6);
  for (std::size_t i = 0; i < 6; ++i) CHECK(lines[2 + i].rfind(std::to_string(i) + " ", 0) == 0);
  CHECK_THAT(lines[2], Catch::EndsWith(" 40"));
  CHECK_THAT(lines[3], Catch::EndsWith(" 8"));
  CHECK_THAT(lines[4], Catch::EndsWith(" 0"));
}

TEST_CASE("summary: dotted names, own parameters, frozen parameters and thousands separators",
          "[sequential][summary]") {
  Generator gen(6);
  Sequential model;
  model.add("stem", conv_bn_act(3, 8, 3, std::make_shared<ReLU>(), gen));
  model.add("pool", std::make_shared<AvgPool2d>(4));
  model.add("flat", std::make_shared<Flatten>());
  model.add("scaled", std::make_shared<ScaledReLU>());
  auto head = model.add("head", std::make_shared<Dense>(8 * 4 * 4, 100, gen));
  head->bias().set_requires_grad(false);  // frozen: counted as non-trainable
  const std::string table = summary(model, {2, 3, 16, 16});
  INFO(table);
  // stem: conv 8*3*9 = 216, bn 16; scaled 1; head 128*100 + 100 = 12,900; total 13,133.
  for (const char* text : {"stem.0 ", "stem.1 ", "stem.2 ", "pool ", "(2, 8, 4, 4)", "scaled.act ", "scaled ",
                           "ScaledReLU()", "head ", "(2, 100)", "12,900", "Total params: 13,133",
                           "Trainable params: 13,033", "Non-trainable params: 100"}) {
    CHECK_THAT(table, Catch::Contains(text));
  }
  CHECK_THAT(table, !Catch::Contains("Sequential("));  // containers without own parameters get no row
}

TEST_CASE("summary runs in eval mode without grad and restores each module's mode", "[sequential][summary]") {
  Generator gen(7);
  auto bn = std::make_shared<BatchNorm2d>(2);
  auto inner = std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{bn});
  auto conv = std::make_shared<Conv2d>(1, 2, 3, gen);
  Sequential model{conv, inner, std::make_shared<Flatten>()};
  inner->eval();  // a mixed state that must come back as it was
  REQUIRE(model.is_training());
  const std::vector<float> running_mean = bn->running_mean().to_vector();
  summary(model, {1, 1, 5, 5});
  CHECK(model.is_training());
  CHECK(conv->is_training());
  CHECK(!inner->is_training());
  CHECK(!bn->is_training());
  CHECK(bn->running_mean().to_vector() == running_mean);  // no running-statistics update
  CHECK(!conv->weight().grad().defined());

  // A bad input shape throws the layer's error and still restores the modes.
  CHECK_THROWS_WITH(summary(model, {1, 3, 5, 5}), Catch::Contains("Conv2d(1, ") && Catch::Contains("has 3 channels"));
  CHECK(model.is_training());
  CHECK(!inner->is_training());
}
