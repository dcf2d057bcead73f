// BatchNorm1d/2d/3d: normalized outputs against a double reference, running statistics under the PyTorch
// and Keras conventions, eval(), the fused backward against finite differences and against the composed
// moments + batch_normalization graph, determinism across thread counts, and errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <omp.h>

#include "tensor_checks.hpp"
#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::testing::check_close;
using xgrad::testing::check_gradients;
using xgrad::testing::check_same;
using xgrad::testing::gradcheck;
using xgrad::testing::randomize;

namespace {

// y = (x - mean_c) / sqrt(var_c + eps) * gamma_c + beta_c over x viewed as (N, C, HW), all in double.
// With use_batch, mean and (biased) var are the batch's; else the given ones.
std::vector<double> reference(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, bool use_batch,
                              std::vector<double> mean = {}, std::vector<double> var = {}) {
  const std::size_t N = x.shape()[0], C = x.shape()[1], HW = x.numel() / (N * C);
  auto at = [&](std::size_t n, std::size_t c, std::size_t i) { return double(x.data()[(n * C + c) * HW + i]); };
  if (use_batch) {
    mean.assign(C, 0.0);
    var.assign(C, 0.0);
    for (std::size_t c = 0; c < C; ++c) {
      for (std::size_t n = 0; n < N; ++n) {
        for (std::size_t i = 0; i < HW; ++i) mean[c] += at(n, c, i);
      }
      mean[c] /= double(N * HW);
      for (std::size_t n = 0; n < N; ++n) {
        for (std::size_t i = 0; i < HW; ++i) var[c] += std::pow(at(n, c, i) - mean[c], 2);
      }
      var[c] /= double(N * HW);
    }
  }
  std::vector<double> y(x.numel());
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t c = 0; c < C; ++c) {
      const double g = gamma.defined() ? gamma.data()[c] : 1.0, b = beta.defined() ? beta.data()[c] : 0.0;
      for (std::size_t i = 0; i < HW; ++i) {
        y[(n * C + c) * HW + i] = (at(n, c, i) - mean[c]) / std::sqrt(var[c] + eps) * g + b;
      }
    }
  }
  return y;
}

}  // namespace

// Gradient checks (check_gradients) run at gradcheck's defaults: O(1) inputs and outputs, h = 1e-2:
// truncation ~h^2 |f'''| ~ 1e-4 and float32 rounding of the weighted sum ~1e-6 / h = 1e-4, under
// atol 1e-3 + rtol 1e-2.

TEST_CASE("BatchNorm2d training: outputs match the double formula, mean 0 and variance 1 per channel",
          "[batch_norm]") {
  BatchNorm2d bn(3);
  Generator gen(1);
  Tensor x = add(mul(randn({4, 3, 5, 6}, gen), 3.0f), 5.0f);
  Tensor y = bn(x);
  REQUIRE(y.shape() == x.shape());
  const std::vector<double> expected = reference(x, bn.weight(), bn.bias(), 1e-5, true);
  check_close(y, expected, 2e-6);
  Moments m = moments(y, {0, 2, 3});
  for (std::size_t c = 0; c < 3; ++c) {
    CHECK(m.mean.at({c}) == Approx(0.0).margin(1e-6));
    CHECK(m.variance.at({c}) == Approx(1.0).epsilon(1e-5));  // var / (var + eps), var ~ 9
  }
  // With random gamma and beta.
  randomize(bn.weight(), 2);
  randomize(bn.bias(), 3);
  check_close(bn(x), reference(x, bn.weight(), bn.bias(), 1e-5, true), 1e-5);
}

TEST_CASE("BatchNorm1d and BatchNorm3d accept their shapes", "[batch_norm]") {
  Generator gen(4);
  for (const Shape& shape : {Shape{6, 4}, Shape{3, 4, 7}}) {
    BatchNorm1d bn(4);
    randomize(bn.weight(), 5);
    randomize(bn.bias(), 6);
    Tensor x = randn(shape, gen);
    check_close(bn(x), reference(x, bn.weight(), bn.bias(), 1e-5, true), 1e-5);
  }
  BatchNorm3d bn3(2);
  Tensor x = randn({2, 2, 3, 2, 4}, gen);
  check_close(bn3(x), reference(x, bn3.weight(), bn3.bias(), 1e-5, true), 2e-6);
}

TEST_CASE("BatchNorm running statistics follow the PyTorch and Keras moving averages", "[batch_norm]") {
  // Batch t = 1..3 of shape (4, 2): channel 0 is {0, 2, 4, 6} + t (mean 3 + t, biased variance 5),
  // channel 1 is t {1, -1, 1, -1} (mean 0, biased variance t^2). M = 4 values per channel.
  auto batch = [](int t) {
    const float f = float(t);
    return Tensor{{0 + f, f}, {2 + f, -f}, {4 + f, f}, {6 + f, -f}};
  };
  const double M = 4;
  auto batch_mean = [](int c, int t) { return c == 0 ? 3.0 + t : 0.0; };
  auto batch_var = [](int c, int t) { return c == 0 ? 5.0 : double(t) * t; };
  const int k = 3;

  SECTION("PyTorch: running = (1 - m) running + m batch, unbiased variance") {
    BatchNorm1d bn(2);
    for (int t = 1; t <= k; ++t) bn(batch(t));
    // Closed form: running_k = (1 - m)^k running_0 + sum_t m (1 - m)^(k - t) batch_t.
    const double m = 0.1;
    for (int c = 0; c < 2; ++c) {
      double rm = 0.0, rv = std::pow(1 - m, k);
      for (int t = 1; t <= k; ++t) {
        rm += m * std::pow(1 - m, k - t) * batch_mean(c, t);
        rv += m * std::pow(1 - m, k - t) * batch_var(c, t) * M / (M - 1);
      }
      CHECK(bn.running_mean().at({std::size_t(c)}) == Approx(rm).epsilon(1e-6));
      CHECK(bn.running_var().at({std::size_t(c)}) == Approx(rv).epsilon(1e-6));
    }
    // By hand: 0.1 (0.81 * 4 + 0.9 * 5 + 6) = 1.374; 0.729 + 0.1 (0.81 + 0.9 * 4 + 9) 4 / 3 = 2.517.
    CHECK(bn.running_mean().at({0}) == Approx(1.374).epsilon(1e-6));
    CHECK(bn.running_var().at({1}) == Approx(2.517).epsilon(1e-6));
    CHECK(bn.num_batches_tracked().item() == 3.0f);
  }

  SECTION("Keras: moving = m moving + (1 - m) batch, biased variance") {
    BatchNorm1d bn(BatchNormOptions::keras(2));
    for (int t = 1; t <= k; ++t) bn(batch(t));
    const double m = 0.99;
    for (int c = 0; c < 2; ++c) {
      double rm = 0.0, rv = std::pow(m, k);
      for (int t = 1; t <= k; ++t) {
        rm += (1 - m) * std::pow(m, k - t) * batch_mean(c, t);
        rv += (1 - m) * std::pow(m, k - t) * batch_var(c, t);
      }
      CHECK(bn.running_mean().at({std::size_t(c)}) == Approx(rm).epsilon(1e-6));
      CHECK(bn.running_var().at({std::size_t(c)}) == Approx(rv).epsilon(1e-6));
    }
    // By hand: 0.01 (0.9801 * 4 + 0.99 * 5 + 6) = 0.148704.
    CHECK(bn.running_mean().at({0}) == Approx(0.148704).epsilon(1e-6));
    // eval() normalizes with Keras's epsilon, 1e-3.
    bn.eval();
    Tensor x = batch(1), y = bn(x);
    for (std::size_t i = 0; i < 8; ++i) {
      const std::size_t c = i % 2;
      const double rm = bn.running_mean().data()[c], rv = bn.running_var().data()[c];
      CHECK(y.data()[i] == Approx((x.data()[i] - rm) / std::sqrt(rv + 1e-3)).epsilon(1e-6));
    }
  }
}

TEST_CASE("BatchNorm eval() normalizes by the running statistics and leaves them unchanged", "[batch_norm]") {
  BatchNorm2d bn(2);
  randomize(bn.weight(), 7);
  randomize(bn.bias(), 8);
  Generator gen(9);
  for (int step = 0; step < 3; ++step) bn(add(randn({3, 2, 2, 2}, gen), 1.0f));
  const std::vector<float> rm = bn.running_mean().to_vector(), rv = bn.running_var().to_vector();
  bn.eval();
  Tensor x = randn({2, 2, 3, 3}, gen);
  Tensor y = bn(x);
  check_close(y, reference(x, bn.weight(), bn.bias(), 1e-5, false, {rm[0], rm[1]}, {rv[0], rv[1]}), 2e-6);
  CHECK(bn.running_mean().to_vector() == rm);
  CHECK(bn.running_var().to_vector() == rv);
  CHECK(bn.num_batches_tracked().item() == 3.0f);
  // One value per channel is fine in eval().
  CHECK(bn(randn({1, 2, 1, 1}, gen)).shape() == Shape{1, 2, 1, 1});
}

TEST_CASE("BatchNorm without running statistics uses batch statistics in eval()", "[batch_norm]") {
  BatchNormOptions options(3);
  options.track_running_stats = false;
  options.affine = false;
  BatchNorm2d bn(options);
  CHECK(bn.named_parameters().empty());
  CHECK(bn.named_buffers().empty());
  bn.eval();
  Generator gen(10);
  Tensor x = randn({2, 3, 2, 2}, gen);
  check_close(bn(x), reference(x, Tensor(), Tensor(), 1e-5, true), 2e-6);
}

TEST_CASE("BatchNorm fused backward agrees with finite differences", "[batch_norm][gradcheck]") {
  for (const Shape& shape : {Shape{3, 2, 2, 3}, Shape{5, 3}}) {
    std::shared_ptr<BatchNorm> bn;
    if (shape.size() == 4) bn = std::make_shared<BatchNorm2d>(2);
    else bn = std::make_shared<BatchNorm1d>(3);
    randomize(bn->weight(), 11);
    randomize(bn->bias(), 12);
    Generator gen(13);
    Tensor x = randn(shape, gen).set_requires_grad();
    // Training: the running statistics change on every call but the output does not depend on them.
    check_gradients([&](const std::vector<Tensor>& in) { return (*bn)(in[0]); }, {x, bn->weight(), bn->bias()});
    bn->eval();
    check_gradients([&](const std::vector<Tensor>& in) { return (*bn)(in[0]); }, {x, bn->weight(), bn->bias()});
  }
}

TEST_CASE("BatchNorm fused backward equals the gradient of moments + batch_normalization", "[batch_norm]") {
  BatchNorm2d bn(3);
  randomize(bn.weight(), 14);
  randomize(bn.bias(), 15);
  Generator gen(16);
  Tensor x = add(randn({4, 3, 3, 2}, gen), 2.0f).set_requires_grad();
  Tensor u = randn(x.shape(), gen);  // random upstream: all ones would zero the x gradient
  Tensor y = bn(x);
  y.backward(u);

  // The composed path on copies, gamma and beta shaped (C, 1, 1) to broadcast over (N, C, H, W).
  Tensor x2 = x.detach().clone().set_requires_grad();
  Tensor gamma = from_vector(bn.weight().to_vector(), {3, 1, 1}).set_requires_grad();
  Tensor beta = from_vector(bn.bias().to_vector(), {3, 1, 1}).set_requires_grad();
  Moments m = moments(x2, {0, 2, 3}, true);
  Tensor y2 = batch_normalization(x2, m.mean, m.variance, beta, gamma, 1e-5f);
  y2.backward(u);

  // Both are float32 computations of the same maths; the composed one rounds at every op (~1e-6 relative).
  check_same(y, y2, 1e-5);
  check_same(x.grad(), x2.grad(), 1e-5);
  check_same(bn.weight().grad(), reshape(gamma.grad(), {3}), 1e-5);
  check_same(bn.bias().grad(), reshape(beta.grad(), {3}), 1e-5);
}

TEST_CASE("BatchNorm is bit-identical across thread counts", "[batch_norm]") {
  auto run = [](int threads) {
    omp_set_num_threads(threads);
    BatchNorm2d bn(4);
    Generator gen(17);
    Tensor x = randn({3, 4, 5, 5}, gen).set_requires_grad();
    Tensor y = bn(x);
    y.backward(randn(y.shape(), gen));
    std::vector<float> all = y.to_vector();
    for (const Tensor& t : {x.grad(), bn.weight().grad(), bn.bias().grad(), bn.running_var()}) {
      const std::vector<float> v = t.to_vector();
      all.insert(all.end(), v.begin(), v.end());
    }
    return all;
  };
  const int previous = omp_get_max_threads();
  const std::vector<float> one = run(1), two = run(2);
  omp_set_num_threads(previous);
  CHECK(one == two);
}

TEST_CASE("BatchNorm registers its state by PyTorch's names and describes itself", "[batch_norm]") {
  BatchNorm2d bn(16);
  const auto params = bn.named_parameters();
  const auto buffers = bn.named_buffers();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[1].first == "bias");
  REQUIRE(buffers.size() == 3);
  CHECK(buffers[0].first == "running_mean");
  CHECK(buffers[1].first == "running_var");
  CHECK(buffers[2].first == "num_batches_tracked");
  CHECK(buffers[2].second.shape() == Shape{});
  CHECK(bn.weight().to_vector() == std::vector<float>(16, 1.0f));
  CHECK(bn.running_var().to_vector() == std::vector<float>(16, 1.0f));
  CHECK(bn.describe() == "BatchNorm2d(16, eps=1e-05, momentum=0.1)");
  CHECK(BatchNorm1d(BatchNormOptions::keras(8)).describe() ==
        "BatchNorm1d(8, eps=0.001, momentum=0.99, momentum_convention=keras, unbiased_running_var=False)");
}

TEST_CASE("BatchNorm rejects bad input naming the layer and the shapes", "[batch_norm][errors]") {
  BatchNorm2d bn(16);
  CHECK_THROWS_WITH(bn(zeros({8, 3, 32, 32})), Catch::Contains("BatchNorm2d") && Catch::Contains("(N, C, H, W)") &&
                                                   Catch::Contains("C = 16") && Catch::Contains("(8, 3, 32, 32)"));
  CHECK_THROWS_WITH(bn(zeros({8, 16})), Catch::Contains("BatchNorm2d") && Catch::Contains("got (8, 16)"));
  CHECK_THROWS_WITH(BatchNorm1d(4)(zeros({2, 4, 3, 3})),
                    Catch::Contains("BatchNorm1d") && Catch::Contains("(N, C) or (N, C, L)"));
  CHECK_THROWS_WITH(BatchNorm3d(2)(zeros({2, 2, 3, 3})),
                    Catch::Contains("BatchNorm3d") && Catch::Contains("(N, C, D, H, W)"));
  // One value per channel cannot be normalized by batch statistics. The op checks; the layer names itself.
  CHECK_THROWS_WITH(bn(zeros({1, 16, 1, 1})),
                    Catch::StartsWith("BatchNorm2d(16, eps=1e-05, momentum=0.1): batch_norm: expected more than 1 "
                                      "value per channel when training, got input size (1, 16, 1, 1)"));
  CHECK_THROWS_WITH(BatchNorm1d(3)(zeros({1, 3})), Catch::Contains("got input size (1, 3)"));
  CHECK_THROWS_WITH(BatchNorm2d(0), Catch::Contains("BatchNorm2d: num_features must be positive, got 0"));
  BatchNormOptions bad(4);
  bad.eps = -1.0f;
  CHECK_THROWS_WITH(BatchNorm2d(bad), Catch::Contains("eps") && Catch::Contains("-1"));
  bad.eps = 1e-5f;
  bad.momentum = 1.5f;
  CHECK_THROWS_WITH(BatchNorm2d(bad), Catch::Contains("momentum must be in [0, 1], got 1.5"));
}
