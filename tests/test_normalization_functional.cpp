// The TensorFlow functional forms: moments, batch_normalization, batch_norm_with_global_normalization.
// Values against double loops and the worked example, keep_dims shapes, gradients and errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "tensor_checks.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::testing::check_gradients;
using xgrad::gradcheck;
using xgrad::testing::random_param;

namespace {

// Per-channel mean and population variance of a channels-last tensor viewed as (rows, C), in double.
void channels_last_moments(const Tensor& x, std::vector<double>& mean, std::vector<double>& var) {
  const std::size_t C = x.shape().back(), rows = x.numel() / C;
  mean.assign(C, 0.0);
  var.assign(C, 0.0);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < C; ++c) mean[c] += x.data()[r * C + c];
  }
  for (double& m : mean) m /= double(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < C; ++c) {
      const double d = x.data()[r * C + c] - mean[c];
      var[c] += d * d;
    }
  }
  for (double& v : var) v /= double(rows);
}

}  // namespace

// Gradient checks (check_gradients) run at gradcheck's defaults: inputs are O(1) and h = 1e-2: central
// differences err by ~h^2 |f'''| ~ 1e-4, float32 rounding of the weighted sum by ~1e-6 / h = 1e-4;
// atol 1e-3 + rtol 1e-2 leaves a margin over both.

TEST_CASE("moments and batch_normalization: the worked example", "[normalization]") {
  Tensor w{{-2, 12, 6}, {3, 2, 8}};
  Moments m = moments(w, {0});
  REQUIRE(m.mean.shape() == Shape{3});
  REQUIRE(m.variance.shape() == Shape{3});
  CHECK(m.mean.to_vector() == std::vector<float>{0.5f, 7.0f, 7.0f});
  CHECK(m.variance.to_vector() == std::vector<float>{6.25f, 25.0f, 1.0f});

  const float eps = 0.001f;
  Tensor y = batch_normalization(w, m.mean, m.variance, Tensor(), Tensor(), eps);
  REQUIRE(y.shape() == Shape{2, 3});
  const double x[2][3] = {{-2, 12, 6}, {3, 2, 8}}, mu[3] = {0.5, 7, 7}, v[3] = {6.25, 25, 1};
  const double printed[2][3] = {{-0.99992, 0.99998, -0.99950}, {0.99992, -0.99998, 0.99950}};
  for (std::size_t i = 0; i < 2; ++i) {
    for (std::size_t j = 0; j < 3; ++j) {
      const double expected = (x[i][j] - mu[j]) / std::sqrt(v[j] + double(eps));
      CHECK(y.at({i, j}) == Approx(expected).margin(1e-6));
      CHECK(y.at({i, j}) == Approx(printed[i][j]).margin(5e-6));  // printed to 5 decimals
    }
  }
}

TEST_CASE("moments over NHWC and NCHW axes match double loops", "[normalization]") {
  Generator gen(7);
  Tensor x = add(mul(randn({2, 3, 4, 5}, gen), 3.0f), 10.0f);  // mean far from 0 tests the centring
  std::vector<double> mean, var;
  channels_last_moments(x, mean, var);
  Moments m = moments(x, {0, 1, 2});
  REQUIRE(m.mean.shape() == Shape{5});
  REQUIRE(m.variance.shape() == Shape{5});
  for (std::size_t c = 0; c < 5; ++c) {
    CHECK(m.mean.at({c}) == Approx(mean[c]).epsilon(1e-6));
    CHECK(m.variance.at({c}) == Approx(var[c]).epsilon(1e-5));
  }
  // NCHW: channel axis 1; compare with the channels-last loop on a permuted copy.
  Moments nchw = moments(x, {0, 2, 3});
  REQUIRE(nchw.mean.shape() == Shape{3});
  channels_last_moments(permute(x, {0, 2, 3, 1}), mean, var);
  for (std::size_t c = 0; c < 3; ++c) {
    CHECK(nchw.mean.at({c}) == Approx(mean[c]).epsilon(1e-6));
    CHECK(nchw.variance.at({c}) == Approx(var[c]).epsilon(1e-5));
  }
}

TEST_CASE("moments keep_dims keeps the reduced axes as ones", "[normalization]") {
  Tensor x = zeros({2, 3, 4, 5});
  CHECK(moments(x, {0, 1, 2}, true).mean.shape() == Shape{1, 1, 1, 5});
  CHECK(moments(x, {0, 1, 2}, true).variance.shape() == Shape{1, 1, 1, 5});
  CHECK(moments(x, {0, 2, 3}, true).variance.shape() == Shape{1, 3, 1, 1});
  CHECK(moments(x, {-1}, false).mean.shape() == Shape{2, 3, 4});
  CHECK(moments(x, {3, 0}, false).variance.shape() == Shape{3, 4});
  // Same values either way.
  Generator gen(3);
  Tensor r = randn({4, 6}, gen);
  CHECK(moments(r, {0}, true).variance.to_vector() == moments(r, {0}, false).variance.to_vector());
  CHECK(moments(r, {0}, true).mean.to_vector() == moments(r, {0}, false).mean.to_vector());
}

TEST_CASE("batch_normalization with offset and scale matches the formula", "[normalization]") {
  Generator gen(11);
  Tensor x = randn({3, 2, 4}, gen), offset = randn({4}, gen), scale = randn({4}, gen);
  Moments m = moments(x, {0, 1});
  Tensor y = batch_normalization(x, m.mean, m.variance, offset, scale, 1e-3f);
  std::vector<double> mean, var;
  channels_last_moments(x, mean, var);
  for (std::size_t i = 0; i < x.numel(); ++i) {
    const std::size_t c = i % 4;
    const double expected = scale.data()[c] * (x.data()[i] - mean[c]) / std::sqrt(var[c] + 1e-3) + offset.data()[c];
    CHECK(y.data()[i] == Approx(expected).margin(2e-6));
  }
}

TEST_CASE("batch_norm_with_global_normalization normalizes the last axis", "[normalization]") {
  Generator gen(5);
  Tensor t = randn({2, 3, 4}, gen), m = randn({4}, gen), beta = randn({4}, gen), gamma = randn({4}, gen);
  Tensor v = add(abs(randn({4}, gen)), 0.5f);
  Tensor scaled = batch_norm_with_global_normalization(t, m, v, beta, gamma, 1e-3f, true);
  Tensor unscaled = batch_norm_with_global_normalization(t, m, v, beta, gamma, 1e-3f, false);
  Tensor unscaled_no_gamma = batch_norm_with_global_normalization(t, m, v, beta, Tensor(), 1e-3f, false);
  for (std::size_t i = 0; i < t.numel(); ++i) {
    const std::size_t c = i % 4;
    const double xhat = (t.data()[i] - m.data()[c]) / std::sqrt(double(v.data()[c]) + 1e-3);
    CHECK(scaled.data()[i] == Approx(gamma.data()[c] * xhat + beta.data()[c]).margin(2e-6));
    CHECK(unscaled.data()[i] == Approx(xhat + beta.data()[c]).margin(2e-6));
  }
  CHECK(unscaled_no_gamma.to_vector() == unscaled.to_vector());
}

TEST_CASE("moments and batch_normalization: gradients", "[normalization][gradcheck]") {
  Tensor x = random_param({3, 4, 2}, 21), offset = random_param({2}, 22), scale = random_param({2}, 23);
  check_gradients([](const std::vector<Tensor>& in) { return moments(in[0], {0, 1}).mean; }, {x});
  check_gradients([](const std::vector<Tensor>& in) { return moments(in[0], {0, 1}).variance; }, {x});
  check_gradients([](const std::vector<Tensor>& in) { return moments(in[0], {1}, true).variance; }, {x});
  // Fixed statistics: gradients for x, mean, variance, offset and scale.
  Tensor mean = random_param({2}, 24);
  Tensor variance = add(abs(random_param({2}, 25).detach()), 0.5f).set_requires_grad();
  check_gradients(
      [](const std::vector<Tensor>& in) { return batch_normalization(in[0], in[1], in[2], in[3], in[4], 1e-3f); },
      {x, mean, variance, offset, scale});
  // Batch statistics: the whole composed batch norm, the reference for the fused kernel.
  check_gradients(
      [](const std::vector<Tensor>& in) {
        Moments m = moments(in[0], {0, 1});
        return batch_normalization(in[0], m.mean, m.variance, in[1], in[2], 1e-5f);
      },
      {x, offset, scale});
  Tensor g = random_param({2}, 26);
  check_gradients(
      [](const std::vector<Tensor>& in) {
        return batch_norm_with_global_normalization(in[0], in[1], in[2], in[3], in[4], 1e-3f, true);
      },
      {x, mean, variance, offset, g});
}

TEST_CASE("normalization functions reject bad input naming it", "[normalization][errors]") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH(moments(x, {2}), Catch::Contains("moments") && Catch::Contains("axis 2") &&
                                         Catch::Contains("rank 2"));
  CHECK_THROWS_WITH(moments(x, {}), Catch::Contains("moments") && Catch::Contains("no axes"));
  CHECK_THROWS_WITH(moments(x, {0, -2}), Catch::Contains("moments") && Catch::Contains("repeated"));
  CHECK_THROWS_WITH(batch_normalization(x, zeros({4}), ones({3}), Tensor(), Tensor(), 1e-3f),
                    Catch::Contains("batch_normalization") && Catch::Contains("mean of shape (4)") &&
                        Catch::Contains("(2, 3)"));
  CHECK_THROWS_WITH(batch_normalization(x, zeros({3}), ones({3}), zeros({2, 1, 3}), Tensor(), 1e-3f),
                    Catch::Contains("offset of shape (2, 1, 3)"));
  CHECK_THROWS_WITH(batch_normalization(x, zeros({3}), ones({3}), Tensor(), zeros({2, 2}), 1e-3f),
                    Catch::Contains("scale of shape (2, 2)"));
  CHECK_THROWS_WITH(batch_normalization(x, zeros({3}), ones({3}), Tensor(), Tensor(), -1e-3f),
                    Catch::Contains("batch_normalization") && Catch::Contains("-0.001"));
  CHECK_THROWS_WITH(batch_normalization(x, zeros({3}), Tensor(), Tensor(), Tensor(), 1e-3f),
                    Catch::Contains("variance is undefined"));
  const Tensor c3 = zeros({3});
  CHECK_THROWS_WITH(batch_norm_with_global_normalization(x, c3, ones({2}), c3, c3, 1e-3f, true),
                    Catch::Contains("batch_norm_with_global_normalization") &&
                        Catch::Contains("v must have shape (3)") && Catch::Contains("got (2)"));
  CHECK_THROWS_WITH(batch_norm_with_global_normalization(x, c3, c3, c3, Tensor(), 1e-3f, true),
                    Catch::Contains("gamma must have shape (3)") && Catch::Contains("undefined"));
}
