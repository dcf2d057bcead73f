// Per-sample MinMaxNorm and ZScoreNorm: hand-computed values, per-sample statistics, constant samples,
// gradient checks and errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "gradcheck.hpp"
#include "xgrad/layers/sample_norm.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::gradcheck;

TEST_CASE("ZScoreNorm: (x - mean) / sqrt(var + eps) per sample (hand-computed)", "[sample_norm]") {
  ZScoreNorm norm;  // eps 1e-5
  // Sample 0: (1, 2, 3, 4): mean 2.5, population variance 1.25. Sample 1: (10, 10, 10, 14): mean 11, var 3.
  Tensor y = norm(Tensor{{1, 2, 3, 4}, {10, 10, 10, 14}});
  const double r0 = 1.0 / std::sqrt(1.25 + 1e-5), r1 = 1.0 / std::sqrt(3.0 + 1e-5);
  const std::vector<double> expected = {-1.5 * r0, -0.5 * r0, 0.5 * r0, 1.5 * r0, -r1, -r1, -r1, 3 * r1};
  for (std::size_t i = 0; i < 8; ++i) CHECK(y.data()[i] == Approx(expected[i]).epsilon(1e-6));
  CHECK(norm.describe() == "ZScoreNorm(eps=1e-05)");
  CHECK(norm.parameter_count() == 0);
}

TEST_CASE("ZScoreNorm: each sample of (N, C, H, W) gets mean 0 and variance ~1", "[sample_norm]") {
  Generator gen(1);
  Tensor x = add(mul(randn({3, 2, 4, 4}, gen), 5.0f), 2.0f);
  Tensor y = ZScoreNorm()(x);
  for (std::size_t n = 0; n < 3; ++n) {
    double sum = 0, sq = 0;
    for (std::size_t i = 0; i < 32; ++i) sum += y.data()[n * 32 + i];
    for (std::size_t i = 0; i < 32; ++i) sq += y.data()[n * 32 + i] * double(y.data()[n * 32 + i]);
    CHECK(sum / 32 == Approx(0.0).margin(1e-6));
    CHECK(sq / 32 == Approx(1.0).epsilon(1e-5));  // var / (var + eps) with var ~ 25
  }
}

TEST_CASE("MinMaxNorm: (x - min) / (max - min + eps) per sample (hand-computed)", "[sample_norm]") {
  MinMaxNorm norm(1e-3f);
  Tensor y = norm(Tensor{{2, 4, 6}, {-1, 1, 0}});
  const double d0 = 4.0 + double(1e-3f), d1 = 2.0 + double(1e-3f);
  const std::vector<double> expected = {0, 2 / d0, 4 / d0, 0, 2 / d1, 1 / d1};
  for (std::size_t i = 0; i < 6; ++i) CHECK(y.data()[i] == Approx(expected[i]).epsilon(1e-6));
  CHECK(norm.describe() == "MinMaxNorm(eps=0.001)");
}

TEST_CASE("a constant sample maps to 0 with finite gradients", "[sample_norm]") {
  for (bool zscore : {true, false}) {
    Tensor x = full({2, 3}, 7.0f).set_requires_grad();
    Tensor y = zscore ? ZScoreNorm()(x) : MinMaxNorm()(x);
    CHECK(y.to_vector() == std::vector<float>(6, 0.0f));
    sum(mul(y, Tensor{{1, 2, 3}, {4, 5, 6}})).backward();
    for (float g : x.grad().to_vector()) CHECK(std::isfinite(g));
  }
}

TEST_CASE("ZScoreNorm and MinMaxNorm: gradient checks", "[sample_norm][gradcheck]") {
  Generator gen(2);
  Tensor x = randn({3, 2, 3}, gen).set_requires_grad();
  // Smooth in x; values O(1), so h = 1e-2 keeps the truncation error (~h^2 * third derivative) and the
  // float32 rounding error (~1e-7 / h) both under atol 1e-3.
  auto r = gradcheck([](const std::vector<Tensor>& in) { return ZScoreNorm()(in[0]); }, {x});
  INFO(r.message);
  CHECK(r.ok);

  // MinMaxNorm has kinks where the arg-max or arg-min changes: keep the extremes 2 apart from every
  // other value (the others in [-1, 1), the max 3, the min -3), far beyond the step h.
  Tensor z = uniform({3, 6}, -1.0f, 1.0f, gen);
  for (std::size_t n = 0; n < 3; ++n) {
    z.set({n, n}, 3.0f);
    z.set({n, 5 - n}, -3.0f);
  }
  z.set_requires_grad();
  r = gradcheck([](const std::vector<Tensor>& in) { return MinMaxNorm()(in[0]); }, {z});
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("sample norm errors name the layer and the shape", "[sample_norm][errors]") {
  CHECK_THROWS_WITH(ZScoreNorm()(zeros({5})), Catch::Contains("ZScoreNorm(eps=1e-05)") &&
                                                  Catch::Contains("(N, features...)") && Catch::Contains("(5)"));
  CHECK_THROWS_WITH(MinMaxNorm()(zeros({4, 0})), Catch::Contains("MinMaxNorm") && Catch::Contains("(4, 0)"));
  CHECK_THROWS_WITH(ZScoreNorm(0.0f), Catch::Contains("ZScoreNorm") && Catch::Contains("eps"));
  CHECK_THROWS_WITH(MinMaxNorm(-1.0f), Catch::Contains("MinMaxNorm") && Catch::Contains("-1"));
}
