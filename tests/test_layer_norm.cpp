// LayerNorm: values against double loops, gradients against finite differences and against the composed
// moments + batch_normalization graph, and errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "tensor_checks.hpp"
#include "xgrad/layers/layer_norm.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::testing::check_same;
using xgrad::gradcheck;
using xgrad::testing::randomize;

TEST_CASE("LayerNorm normalizes the trailing axes like the double formula", "[layer_norm]") {
  LayerNorm ln(Shape{4, 5});
  randomize(ln.weight(), 1);
  randomize(ln.bias(), 2);
  Generator gen(3);
  Tensor x = add(mul(randn({2, 3, 4, 5}, gen), 4.0f), -2.0f);
  Tensor y = ln(x);
  REQUIRE(y.shape() == x.shape());
  const std::size_t D = 20;
  for (std::size_t r = 0; r < 6; ++r) {
    const float* v = x.data() + r * D;
    double mean = 0.0, var = 0.0;
    for (std::size_t i = 0; i < D; ++i) mean += v[i];
    mean /= double(D);
    for (std::size_t i = 0; i < D; ++i) var += (v[i] - mean) * (v[i] - mean);
    var /= double(D);
    for (std::size_t i = 0; i < D; ++i) {
      const double expected = (v[i] - mean) / std::sqrt(var + 1e-5) * ln.weight().data()[i] + ln.bias().data()[i];
      CHECK(y.data()[r * D + i] == Approx(expected).margin(1e-5));
    }
  }
}

TEST_CASE("LayerNorm gradients: finite differences and the composed graph", "[layer_norm][gradcheck]") {
  LayerNorm ln(Shape{6});
  randomize(ln.weight(), 4);
  randomize(ln.bias(), 5);
  Generator gen(6);
  Tensor x = randn({4, 6}, gen).set_requires_grad();
  // O(1) values, h = 1e-2: truncation ~1e-4 and float32 rounding ~1e-4, under atol 1e-3 + rtol 1e-2.
  auto r = gradcheck([&](const std::vector<Tensor>& in) { return ln(in[0]); }, {x, ln.weight(), ln.bias()});
  INFO(r.message);
  CHECK(r.ok);

  Tensor u = randn(x.shape(), gen);
  x.zero_grad();
  ln.zero_grad();
  Tensor y = ln(x);
  y.backward(u);
  Tensor x2 = x.detach().clone().set_requires_grad();
  Tensor gamma = ln.weight().detach().clone().set_requires_grad();
  Tensor beta = ln.bias().detach().clone().set_requires_grad();
  Moments m = moments(x2, {-1}, true);
  Tensor y2 = batch_normalization(x2, m.mean, m.variance, beta, gamma, 1e-5f);
  y2.backward(u);
  // Same maths in float32; the composed graph rounds at each op (~1e-6 relative).
  check_same(y, y2, 1e-5);
  check_same(x.grad(), x2.grad(), 1e-5);
  check_same(ln.weight().grad(), gamma.grad(), 1e-5);
  check_same(ln.bias().grad(), beta.grad(), 1e-5);
}

TEST_CASE("LayerNorm without affine has no parameters and describes itself", "[layer_norm]") {
  LayerNorm ln(Shape{10});
  CHECK(ln.describe() == "LayerNorm((10,), eps=1e-05, elementwise_affine=True)");
  CHECK(ln.named_parameters().size() == 2);
  LayerNormOptions options(Shape{4, 5});
  options.elementwise_affine = false;
  LayerNorm plain(options);
  CHECK(plain.named_parameters().empty());
  CHECK(plain.describe() == "LayerNorm((4, 5), eps=1e-05, elementwise_affine=False)");
  Generator gen(7);
  Tensor x = randn({3, 4, 5}, gen);
  CHECK(plain(x).to_vector() == layer_norm(x, {4, 5}).to_vector());
}

TEST_CASE("LayerNorm rejects bad input naming the layer and the shapes", "[layer_norm][errors]") {
  LayerNorm ln(Shape{4, 5});
  CHECK_THROWS_WITH(ln(zeros({2, 5, 4})), Catch::Contains("LayerNorm((4, 5)") &&
                                              Catch::Contains("(*, 4, 5)") && Catch::Contains("got (2, 5, 4)"));
  CHECK_THROWS_WITH(ln(zeros({5})), Catch::Contains("got (5)"));
  CHECK_THROWS_WITH(LayerNorm(Shape{}), Catch::Contains("LayerNorm: normalized_shape"));
  CHECK_THROWS_WITH(layer_norm(zeros({2, 5}), {5}, ones({4})),
                    Catch::Contains("layer_norm: weight of shape (4)") && Catch::Contains("normalized_shape (5)"));
  CHECK_THROWS_WITH(layer_norm(zeros({2, 5}), {5}, Tensor(), Tensor(), -1.0f), Catch::Contains("eps"));
}
