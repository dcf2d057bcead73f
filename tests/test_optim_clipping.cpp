// Gradient clipping by global norm and by value: hand values, orders 1, 2 and infinity, skipping, errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "xgrad/optim/clipping.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

namespace {

Tensor with_grad(const std::vector<float>& g) {
  Tensor p = zeros({g.size()}).set_requires_grad();
  p.backward(from_vector(g, {g.size()}));
  return p;
}

}  // namespace

TEST_CASE("clip_grad_norm_ scales all gradients together", "[optim][clipping]") {
  // Global 2-norm of (3, 4) and (12) is 13; max_norm 6.5 halves them (up to the 1e-6 PyTorch adds).
  Tensor a = with_grad({3, 4}), b = with_grad({12}), none = zeros({2}).set_requires_grad();
  const double norm = clip_grad_norm_({a, b, none}, 6.5);
  CHECK(norm == Approx(13.0).epsilon(1e-12));
  const float scale = static_cast<float>(6.5 / (13.0 + 1e-6));
  CHECK(a.grad().to_vector() == std::vector<float>{3 * scale, 4 * scale});
  CHECK(b.grad().to_vector() == std::vector<float>{12 * scale});
  CHECK_FALSE(none.grad().defined());
}

TEST_CASE("clip_grad_norm_ leaves gradients under the limit alone", "[optim][clipping]") {
  Tensor a = with_grad({3, 4});
  CHECK(clip_grad_norm_({a}, 5.0) == Approx(5.0));  // coefficient 5 / (5 + 1e-6) < 1: clipped, barely
  Tensor b = with_grad({3, 4});
  CHECK(clip_grad_norm_({b}, 10.0) == Approx(5.0));
  CHECK(b.grad().to_vector() == std::vector<float>{3, 4});
}

TEST_CASE("clip_grad_norm_ with orders 1 and infinity", "[optim][clipping]") {
  Tensor a = with_grad({1, -2}), b = with_grad({-3});
  CHECK(clip_grad_norm_({a, b}, 100.0, 1.0) == Approx(6.0));
  CHECK(clip_grad_norm_({a, b}, 100.0, INFINITY) == Approx(3.0));
  CHECK(clip_grad_norm_({a, b}, 1.5, INFINITY) == Approx(3.0));
  CHECK(b.grad().item() == Approx(-1.5));  // all scaled by 1.5 / 3: now (0.5, -1) and (-1.5)
  CHECK(clip_grad_norm_({a, b}, 100.0, 3.0) == Approx(std::cbrt(0.125 + 1.0 + 3.375)));
}

TEST_CASE("clip_grad_norm_ with a non-finite norm", "[optim][clipping][errors]") {
  Tensor a = with_grad({NAN, 1});
  CHECK_THROWS_WITH(clip_grad_norm_({a}, 1.0, 2.0, true),
                    Catch::Contains("clip_grad_norm_") && Catch::Contains("nan"));
  CHECK(std::isnan(a.grad().to_vector()[0]));
  CHECK(a.grad().to_vector()[1] == 1.0f);  // unchanged by the throw
  CHECK(std::isnan(clip_grad_norm_({a}, 1.0)));  // PyTorch's behaviour: the NaN spreads
  CHECK(std::isnan(a.grad().to_vector()[1]));
  CHECK_THROWS_WITH(clip_grad_norm_({a}, -1.0), Catch::Contains("max_norm must be >= 0, got -1"));
  CHECK_THROWS_WITH(clip_grad_norm_({a}, 1.0, 0.0), Catch::Contains("norm_type must be > 0"));
}

TEST_CASE("clip_grad_value_ clamps each element", "[optim][clipping]") {
  Tensor a = with_grad({-3, 0.5f, 2, NAN});
  clip_grad_value_({a}, 1.0);
  const auto g = a.grad().to_vector();
  CHECK(g[0] == -1.0f);
  CHECK(g[1] == 0.5f);
  CHECK(g[2] == 1.0f);
  CHECK(std::isnan(g[3]));
  CHECK_THROWS_WITH(clip_grad_value_({a}, -1.0), Catch::Contains("clip_value must be >= 0, got -1"));
}
