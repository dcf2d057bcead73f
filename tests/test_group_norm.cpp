// GroupNorm: values against double loops, the instance-norm and layer-norm special cases, the fused
// backward against finite differences and against the composed reshape + moments + batch_normalization
// graph, and errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "tensor_checks.hpp"
#include "xgrad/layers/group_norm.hpp"
#include "xgrad/layers/layer_norm.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::testing::check_close;
using xgrad::testing::check_gradients;
using xgrad::testing::check_same;
using xgrad::gradcheck;
using xgrad::testing::randomize;

namespace {

// Group norm of x viewed as (N, C, HW) with G groups, in double.
std::vector<double> reference(const Tensor& x, std::size_t G, const Tensor& gamma, const Tensor& beta, double eps) {
  const std::size_t N = x.shape()[0], C = x.shape()[1], HW = x.numel() / (N * C), D = C / G * HW;
  std::vector<double> y(x.numel());
  for (std::size_t ng = 0; ng < N * G; ++ng) {
    const float* v = x.data() + ng * D;
    double mean = 0.0, var = 0.0;
    for (std::size_t i = 0; i < D; ++i) mean += v[i];
    mean /= double(D);
    for (std::size_t i = 0; i < D; ++i) var += (v[i] - mean) * (v[i] - mean);
    var /= double(D);
    for (std::size_t i = 0; i < D; ++i) {
      const std::size_t c = (ng % G) * (C / G) + i / HW;
      const double g = gamma.defined() ? gamma.data()[c] : 1.0, b = beta.defined() ? beta.data()[c] : 0.0;
      y[ng * D + i] = (v[i] - mean) / std::sqrt(var + eps) * g + b;
    }
  }
  return y;
}

}  // namespace

// Gradient checks (check_gradients) run at gradcheck's defaults: O(1) values, h = 1e-2: truncation ~1e-4
// and float32 rounding ~1e-4, under atol 1e-3 + rtol 1e-2.

TEST_CASE("GroupNorm matches the double formula for 2-D, 3-D and 4-D inputs", "[group_norm]") {
  GroupNorm gn(2, 6);
  randomize(gn.weight(), 1);
  randomize(gn.bias(), 2);
  Generator gen(3);
  for (const Shape& shape : {Shape{2, 6, 3, 4}, Shape{3, 6, 5}, Shape{4, 6}}) {
    Tensor x = add(mul(randn(shape, gen), 2.0f), 3.0f);
    check_close(gn(x), reference(x, 2, gn.weight(), gn.bias(), 1e-5), 1e-5);
  }
  // No running statistics: eval() computes the same thing.
  Tensor x = randn({2, 6, 2, 2}, gen);
  const std::vector<float> train = gn(x).to_vector();
  gn.eval();
  CHECK(gn(x).to_vector() == train);
}

TEST_CASE("GroupNorm with C groups is instance norm, with 1 group is layer norm", "[group_norm]") {
  Generator gen(4);
  Tensor x = randn({2, 4, 3, 3}, gen);
  GroupNormOptions options(4, 4);
  options.affine = false;
  Moments m = moments(x, {2, 3}, true);
  Tensor instance = batch_normalization(x, m.mean, m.variance, Tensor(), Tensor(), 1e-5f);
  const std::vector<float> expected = instance.to_vector();
  check_close(GroupNorm(options)(x), std::vector<double>(expected.begin(), expected.end()), 2e-6);
  Tensor one_group = group_norm(x, 1);
  Tensor layer = layer_norm(x, {4, 3, 3});
  CHECK(one_group.to_vector() == layer.to_vector());  // the same kernel over the same contiguous groups
}

TEST_CASE("GroupNorm fused backward agrees with finite differences", "[group_norm][gradcheck]") {
  GroupNorm gn(3, 6);
  randomize(gn.weight(), 5);
  randomize(gn.bias(), 6);
  Generator gen(7);
  Tensor x = randn({2, 6, 2, 3}, gen).set_requires_grad();
  check_gradients([&](const std::vector<Tensor>& in) { return gn(in[0]); }, {x, gn.weight(), gn.bias()});
  check_gradients([](const std::vector<Tensor>& in) { return group_norm(in[0], 2); }, {x});
}

TEST_CASE("GroupNorm fused backward equals the gradient of the composed graph", "[group_norm]") {
  const std::size_t N = 2, C = 6, G = 3, H = 2, W = 3;
  GroupNorm gn(G, C);
  randomize(gn.weight(), 8);
  randomize(gn.bias(), 9);
  Generator gen(10);
  Tensor x = add(randn({N, C, H, W}, gen), 1.5f).set_requires_grad();
  Tensor u = randn(x.shape(), gen);
  Tensor y = gn(x);
  y.backward(u);

  // Composed: (N, G, C / G * H * W) moments over the last axis, normalize, back to NCHW, affine per channel.
  Tensor x2 = x.detach().clone().set_requires_grad();
  Tensor gamma = from_vector(gn.weight().to_vector(), {C, 1, 1}).set_requires_grad();
  Tensor beta = from_vector(gn.bias().to_vector(), {C, 1, 1}).set_requires_grad();
  Tensor grouped = reshape(x2, {N, G, C / G * H * W});
  Moments m = moments(grouped, {2}, true);
  Tensor normalized =
      reshape(batch_normalization(grouped, m.mean, m.variance, Tensor(), Tensor(), 1e-5f), {N, C, H, W});
  Tensor y2 = normalized * gamma + beta;
  y2.backward(u);

  // Same maths in float32; the composed graph rounds at each of its ops (~1e-6 relative).
  check_same(y, y2, 1e-5);
  check_same(x.grad(), x2.grad(), 1e-5);
  check_same(gn.weight().grad(), reshape(gamma.grad(), {C}), 1e-5);
  check_same(gn.bias().grad(), reshape(beta.grad(), {C}), 1e-5);
}

TEST_CASE("GroupNorm registers weight and bias and describes itself", "[group_norm]") {
  GroupNorm gn(2, 6);
  const auto params = gn.named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[1].first == "bias");
  CHECK(params[0].second.shape() == Shape{6});
  CHECK(gn.describe() == "GroupNorm(2, 6, eps=1e-05, affine=True)");
  GroupNormOptions options(3, 6);
  options.affine = false;
  CHECK(GroupNorm(options).named_parameters().empty());
}

TEST_CASE("GroupNorm rejects bad input naming the layer and the shapes", "[group_norm][errors]") {
  CHECK_THROWS_WITH(GroupNorm(4, 6), Catch::Contains("GroupNorm: num_channels 6") &&
                                         Catch::Contains("multiple of num_groups 4"));
  GroupNorm gn(2, 6);
  CHECK_THROWS_WITH(gn(zeros({2, 4, 3, 3})), Catch::Contains("GroupNorm(2, 6") && Catch::Contains("C = 6") &&
                                                 Catch::Contains("(2, 4, 3, 3)"));
  CHECK_THROWS_WITH(gn(zeros({6})), Catch::Contains("GroupNorm") && Catch::Contains("got (6)"));
  CHECK_THROWS_WITH(group_norm(zeros({2, 6, 3}), 4), Catch::Contains("group_norm: 6 channels") &&
                                                         Catch::Contains("(2, 6, 3)") && Catch::Contains("4 groups"));
  CHECK_THROWS_WITH(group_norm(zeros({2, 6, 3}), 2, ones({3})),
                    Catch::Contains("group_norm: weight of shape (3)") && Catch::Contains("6 channels"));
  CHECK_THROWS_WITH(group_norm(zeros({2, 6, 3}), 2, Tensor(), Tensor(), -1.0f), Catch::Contains("eps"));
}
