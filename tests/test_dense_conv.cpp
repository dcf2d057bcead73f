// Dense and Conv2d layers: parameters and their default init, forward values, padding rules, gradients
// through the layer, descriptions and errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <type_traits>

#include "gradcheck.hpp"
#include "xgrad/layers/conv2d.hpp"
#include "xgrad/layers/dense.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::testing::gradcheck;

namespace {

float max_abs(const Tensor& t) {
  float m = 0;
  for (float v : t.to_vector()) m = std::max(m, std::fabs(v));
  return m;
}

void fill(Tensor t, const std::vector<float>& values) {
  REQUIRE(values.size() == t.numel());
  std::copy(values.begin(), values.end(), t.data());
}

}  // namespace

TEST_CASE("Dense: parameters, names and PyTorch's default init", "[dense]") {
  static_assert(std::is_same_v<Linear, Dense>);
  Generator gen(1);
  Dense layer(64, 3, gen);
  auto named = layer.named_parameters();
  REQUIRE(named.size() == 2);
  CHECK(named[0].first == "weight");
  CHECK(named[0].second.shape() == Shape{3, 64});
  CHECK(named[1].first == "bias");
  CHECK(named[1].second.shape() == Shape{3});
  CHECK(layer.parameter_count() == 3 * 64 + 3);
  CHECK(layer.weight().requires_grad());
  // U(-1/sqrt(in), 1/sqrt(in)) = U(-0.125, 0.125) for weight and bias.
  CHECK(max_abs(layer.weight()) <= 0.125f);
  CHECK(max_abs(layer.weight()) > 0.1f);
  CHECK(max_abs(layer.bias()) <= 0.125f);
  CHECK(layer.describe() == "Dense(in_features=64, out_features=3, bias=true)");

  Dense no_bias(DenseOptions{.in_features = 4, .out_features = 2, .bias = false}, gen);
  CHECK(!no_bias.bias().defined());
  CHECK(no_bias.named_parameters().size() == 1);
  CHECK(no_bias.parameter_count() == 8);
  CHECK(no_bias.describe() == "Dense(in_features=4, out_features=2, bias=false)");
}

TEST_CASE("Dense: the same seed gives the same weights", "[dense]") {
  Generator g1(7), g2(7), g3(8);
  Dense a(5, 4, g1), b(5, 4, g2), c(5, 4, g3);
  CHECK(a.weight().to_vector() == b.weight().to_vector());
  CHECK(a.bias().to_vector() == b.bias().to_vector());
  CHECK(a.weight().to_vector() != c.weight().to_vector());
}

TEST_CASE("Dense: forward is x W^T + b (hand-computed)", "[dense]") {
  Generator gen(2);
  Dense layer(2, 3, gen);
  fill(layer.weight(), {1, 2, 3, 4, 5, 6});  // W (3, 2)
  fill(layer.bias(), {0.5f, -1, 2});
  Tensor x{{1, 1}, {2, -1}};
  // row 0: (1+2+0.5, 3+4-1, 5+6+2); row 1: (2-2+0.5, 6-4-1, 10-6+2)
  Tensor y = layer(x);
  REQUIRE(y.shape() == Shape{2, 3});
  CHECK(y.to_vector() == std::vector<float>{3.5f, 6, 13, 0.5f, 1, 6});
  // Leading axes are kept, as torch.nn.Linear does: (2, 1, 2) -> (2, 1, 3).
  Tensor y3 = layer(reshape(x, {2, 1, 2}));
  CHECK(y3.shape() == Shape{2, 1, 3});
  CHECK(y3.to_vector() == y.to_vector());
}

TEST_CASE("Dense: gradients for input, weight and bias", "[dense][gradcheck]") {
  Generator gen(3);
  Dense layer(4, 3, gen);
  Tensor x = randn({5, 4}, gen).set_requires_grad();
  // A linear map: central differences are exact up to float32 rounding of the forward (~1e-6 relative
  // on O(1) sums, divided by 2h = 2e-2): well within atol 1e-3.
  auto r = gradcheck([&](const std::vector<Tensor>& in) { return layer(in[0]); }, {x, layer.weight(), layer.bias()});
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("Dense: a wrong input names the layer and both shapes", "[dense][errors]") {
  Generator gen(4);
  Dense layer(4, 3, gen);
  CHECK_THROWS_WITH(layer(zeros({2, 5})), Catch::Contains("Dense(in_features=4, out_features=3") &&
                                              Catch::Contains("(*, 4)") && Catch::Contains("(2, 5)"));
  CHECK_THROWS_WITH(layer(Tensor()), Catch::Contains("Dense") && Catch::Contains("undefined"));
  CHECK_THROWS_WITH(Dense(0, 3, gen), Catch::Contains("Dense") && Catch::Contains("in_features 0"));
  CHECK_THROWS_WITH(Dense(2, -1, gen), Catch::Contains("Dense") && Catch::Contains("out_features -1"));
}

TEST_CASE("Conv2d: parameters, names and PyTorch's default init", "[conv2d]") {
  Generator gen(5);
  Conv2d conv(3, 16, 3, gen);
  auto named = conv.named_parameters();
  REQUIRE(named.size() == 2);
  CHECK(named[0].first == "weight");
  CHECK(named[0].second.shape() == Shape{16, 3, 3, 3});
  CHECK(named[1].first == "bias");
  CHECK(named[1].second.shape() == Shape{16});
  CHECK(conv.parameter_count() == 16 * 27 + 16);
  const float bound = 1.0f / std::sqrt(27.0f);  // fan_in = 3 * 3 * 3
  CHECK(max_abs(conv.weight()) <= bound);
  CHECK(max_abs(conv.weight()) > 0.9f * bound);
  CHECK(max_abs(conv.bias()) <= bound);
  CHECK(conv.describe() == "Conv2d(3, 16, kernel_size=3, stride=1)");

  Conv2d other(Conv2dOptions{.in_channels = 1, .out_channels = 2, .kernel_size = {3, 5}, .stride = 2,
                             .padding = {1, 2}, .dilation = 2, .bias = false},
               gen);
  CHECK(other.weight().shape() == Shape{2, 1, 3, 5});
  CHECK(!other.bias().defined());
  CHECK(other.describe() == "Conv2d(1, 2, kernel_size=(3, 5), stride=2, padding=(1, 2), dilation=2, bias=false)");
}

TEST_CASE("Conv2d: forward values (hand-computed)", "[conv2d]") {
  Generator gen(6);
  Conv2d conv(1, 1, 2, gen);
  fill(conv.weight(), {1, 2, 3, 4});
  fill(conv.bias(), {0.5f});
  Tensor x = reshape(arange(9.0f), {1, 1, 3, 3});  // 0..8
  // out[i][j] = x[i][j] + 2 x[i][j+1] + 3 x[i+1][j] + 4 x[i+1][j+1] + 0.5
  Tensor y = conv(x);
  REQUIRE(y.shape() == Shape{1, 1, 2, 2});
  CHECK(y.to_vector() == std::vector<float>{27.5f, 37.5f, 57.5f, 67.5f});
}

TEST_CASE("Conv2d: output sizes for stride, padding and \"same\"", "[conv2d]") {
  Generator gen(7);
  Tensor x = zeros({2, 3, 8, 10});
  Conv2d strided(Conv2dOptions{.in_channels = 3, .out_channels = 4, .kernel_size = 3, .stride = 2, .padding = 1}, gen);
  CHECK(strided(x).shape() == Shape{2, 4, 4, 5});  // (8 + 2 - 3) / 2 + 1 = 4, (10 + 2 - 3) / 2 + 1 = 5

  Conv2d same(Conv2dOptions{.in_channels = 3, .out_channels = 4, .kernel_size = {3, 5}, .padding = "same"}, gen);
  CHECK(same.padding() == Size2(1, 2));
  CHECK(same(x).shape() == Shape{2, 4, 8, 10});
  CHECK(same.describe() == "Conv2d(3, 4, kernel_size=(3, 5), stride=1, padding=\"same\")");

  Conv2d dilated(Conv2dOptions{.in_channels = 3, .out_channels = 4, .kernel_size = 3, .padding = "same", .dilation = 2},
                 gen);
  CHECK(dilated.padding() == Size2(2));
  CHECK(dilated(x).shape() == Shape{2, 4, 8, 10});

  // An even kernel with an even dilation has an even total padding: "same" works.
  Conv2d even_dilated(Conv2dOptions{.in_channels = 3, .out_channels = 1, .kernel_size = 2, .padding = "same",
                                    .dilation = 2},
                      gen);
  CHECK(even_dilated(x).shape() == Shape{2, 1, 8, 10});

  Conv2d valid(Conv2dOptions{.in_channels = 3, .out_channels = 4, .kernel_size = 3, .padding = "valid"}, gen);
  CHECK(valid(x).shape() == Shape{2, 4, 6, 8});
}

TEST_CASE("Conv2d: gradients for input, weight and bias", "[conv2d][gradcheck]") {
  Generator gen(8);
  Conv2d conv(Conv2dOptions{.in_channels = 2, .out_channels = 3, .kernel_size = 3, .stride = 2, .padding = 1}, gen);
  Tensor x = randn({2, 2, 5, 5}, gen).set_requires_grad();
  // Linear in each input: float32 rounding of sums of ~18 O(1) terms over 2h = 2e-2 stays under atol 1e-3.
  auto r = gradcheck([&](const std::vector<Tensor>& in) { return conv(in[0]); }, {x, conv.weight(), conv.bias()});
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("Conv2d: errors name the layer and the expected and actual shapes", "[conv2d][errors]") {
  Generator gen(9);
  Conv2d conv(3, 16, 3, gen);
  // conv2d checks the input against the weight; the layer puts its description in front.
  CHECK_THROWS_WITH(conv(zeros({2, 1, 28, 28})),
                    Catch::StartsWith("Conv2d(3, 16, kernel_size=3") && Catch::Contains(": conv2d: the input") &&
                        Catch::Contains("(2, 1, 28, 28) has 1 channels") && Catch::Contains("expects 3"));
  CHECK_THROWS_WITH(conv(zeros({3, 28, 28})), Catch::StartsWith("Conv2d(3, 16") &&
                                                  Catch::Contains("conv2d: the input must be (N, C, H, W)") &&
                                                  Catch::Contains("(3, 28, 28)"));
  CHECK_THROWS_WITH(conv(zeros({1, 3, 2, 2})), Catch::StartsWith("Conv2d(3, 16") && Catch::Contains("(1, 3, 2, 2)") &&
                                                   Catch::Contains("does not fit the input size (2, 2)"));

  auto options = [](Size2 kernel, Conv2dPadding padding, Size2 stride) {
    return Conv2dOptions{.in_channels = 1, .out_channels = 1, .kernel_size = kernel, .stride = stride, .padding = padding};
  };
  CHECK_THROWS_WITH(Conv2d(options(2, "same", 1), gen), Catch::Contains("Conv2d") && Catch::Contains("\"same\"") &&
                                                             Catch::Contains("odd kernel_size") &&
                                                             Catch::Contains("got kernel_size 2"));
  CHECK_THROWS_WITH(Conv2d(options({3, 4}, "same", 1), gen), Catch::Contains("kernel_size (3, 4)"));
  CHECK_THROWS_WITH(Conv2d(options(3, "same", 2), gen), Catch::Contains("stride 1") && Catch::Contains("stride 2"));
  CHECK_THROWS_WITH(Conv2d(options(3, "full", 1), gen), Catch::Contains("Conv2d") && Catch::Contains("\"full\""));
  CHECK_THROWS_WITH(Conv2d(options(3, -1, 1), gen), Catch::Contains("Conv2d") && Catch::Contains("padding -1"));
  CHECK_THROWS_WITH(Conv2d(options(0, 0, 1), gen), Catch::Contains("Conv2d") && Catch::Contains("kernel_size 0"));
  CHECK_THROWS_WITH(Conv2d(0, 4, 3, gen), Catch::Contains("Conv2d") && Catch::Contains("in_channels 0"));
}
