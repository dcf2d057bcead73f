// Reductions: values against hand computations, keepdim shapes, gradients over many axis sets, errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "gradcheck.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::gradcheck;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// 0, 1, ..., 23 as a (2, 3, 4) tensor: x[i, j, k] = 12 i + 4 j + k.
Tensor iota234() { return from_vector(arange(24.0f).to_vector(), {2, 3, 4}); }

// Distinct values 0.1 apart in a random order: max has no ties, and a gradcheck step of 1e-2 cannot
// change which element is the maximum (no kink is crossed).
Tensor shuffled(const Shape& shape, std::uint64_t seed) {
  Generator gen(seed);
  std::vector<float> v(numel(shape));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.1f * static_cast<float>(i) - 1.0f;
  for (std::size_t i = v.size(); i-- > 1;) std::swap(v[i], v[gen.below(i + 1)]);
  return from_vector(v, shape).set_requires_grad();
}

// sum, mean and var are polynomials of degree <= 2 and max is linear away from ties, so central
// differences have no truncation error; what remains is float32 rounding of the forward, about 1e-7
// relative on outputs of size O(1), times |L| ~ 10, over 2h = 2e-2: ~1e-4 at worst. Tighter than the
// default (rtol 1e-2) so that a gradient off by a factor like n / (n - 1) or 1.01 cannot pass.
const xgrad::GradcheckOptions tight{1e-2, 2e-4, 1e-3};

void check_grad(const Fn& f, const Tensor& x) {
  auto r = gradcheck(f, {x}, tight);
  INFO(r.message);
  CHECK(r.ok);
}

const std::vector<std::vector<int>> axis_sets = {{},     {0},    {1},  {2},      {0, 2},
                                                 {1, 2}, {0, 1}, {-1}, {-3, -1}, {2, -3}};

}  // namespace

TEST_CASE("sum and mean: values and keepdim shapes", "[reduce]") {
  Tensor x{{1, 2, 3}, {4, 5, 6}};
  CHECK(sum(x).shape() == Shape{});
  CHECK(sum(x).item() == 21.0f);
  CHECK(sum(x, {0}).to_vector() == std::vector<float>{5, 7, 9});
  CHECK(sum(x, {1}).to_vector() == std::vector<float>{6, 15});
  CHECK(sum(x, {-1}, true).shape() == Shape{2, 1});
  CHECK(sum(x, {0}, true).shape() == Shape{1, 3});
  CHECK(sum(x, {}, true).shape() == Shape{1, 1});
  CHECK(mean(x).item() == 3.5f);
  CHECK(mean(x, {1}).to_vector() == std::vector<float>{2, 5});
  CHECK(mean(x, {0}, true).to_vector() == std::vector<float>{2.5f, 3.5f, 4.5f});

  // Non-adjacent axes of a rank-3 tensor: sum over i, k of (12 i + 4 j + k) = 60 + 32 j.
  Tensor t = iota234();
  Tensor s = sum(t, {0, 2}, true);
  CHECK(s.shape() == Shape{1, 3, 1});
  CHECK(s.to_vector() == std::vector<float>{60, 92, 124});
  CHECK(sum(t, {-1, -3}).to_vector() == std::vector<float>{60, 92, 124});
  CHECK(mean(t, {0, 2}).to_vector() == std::vector<float>{7.5f, 11.5f, 15.5f});
  // Over j: 3 (12 i + k) + 12.
  CHECK(sum(t, {1}).to_vector() == std::vector<float>{12, 15, 18, 21, 48, 51, 54, 57});

  // A rank-0 tensor reduces to itself.
  CHECK(sum(scalar_tensor(3.0f)).item() == 3.0f);
  CHECK(sum(scalar_tensor(3.0f)).shape() == Shape{});
}

TEST_CASE("sum accumulates in double", "[reduce]") {
  // In float, 2^24 + 1 rounds back to 2^24 four times over; in double the exact 2^24 + 4 is representable.
  Tensor x{16777216.0f, 1.0f, 1.0f, 1.0f, 1.0f};
  CHECK(sum(x).item() == 16777220.0f);
  CHECK(mean(x).item() == 3355444.0f);
}

TEST_CASE("empty tensors: sum is zero, the kept axes may be empty", "[reduce]") {
  CHECK(sum(zeros({0, 3}), {0}).to_vector() == std::vector<float>{0, 0, 0});
  CHECK(max(zeros({0, 3}), {1}).shape() == Shape{0});
  CHECK(mean(zeros({3, 0}), {0}, true).shape() == Shape{1, 0});
}

TEST_CASE("var: unbiased and biased values", "[reduce]") {
  Tensor x{{1, 2, 3}, {4, 5, 6}};
  CHECK(var(x, {1}).to_vector() == std::vector<float>{1, 1});
  CHECK(var(x, {1}, false).to_vector()[0] == Approx(2.0 / 3.0).epsilon(1e-7));
  // Mean 3.5; squared deviations sum to 17.5.
  CHECK(var(x).item() == 3.5f);
  CHECK(var(x, {}, false).item() == Approx(17.5 / 6.0).epsilon(1e-7));
  CHECK(var(x, {0}, true, true).shape() == Shape{1, 3});
  CHECK(var(x, {0}).to_vector() == std::vector<float>{4.5f, 4.5f, 4.5f});
  // One element per slot is fine when biased: the variance is 0.
  CHECK(var(x, {0, 1}, false, true).shape() == Shape{1, 1});
  CHECK(var(ones({3, 1}), {1}, false).to_vector() == std::vector<float>{0, 0, 0});
  // Two passes in double: a large offset does not swamp a small spread (one-pass E[x^2] - E[x]^2 would).
  Tensor shifted{10000.0f, 10001.0f, 10002.0f};
  CHECK(var(shifted).item() == 1.0f);
}

TEST_CASE("max: values, first maximal element, NaN", "[reduce]") {
  Tensor x{{3, 1, 3}, {2, 2, 0}};
  CHECK(max(x).item() == 3.0f);
  CHECK(max(x, {0}).to_vector() == std::vector<float>{3, 2, 3});
  CHECK(max(x, {1}, true).shape() == Shape{2, 1});
  CHECK(max(x, {1}).to_vector() == std::vector<float>{3, 2});
  CHECK(max(Tensor{-5.0f, -std::numeric_limits<float>::infinity()}).item() == -5.0f);
  CHECK(std::isinf(max(full({3}, -std::numeric_limits<float>::infinity())).item()));
  CHECK(std::isnan(max(Tensor{1.0f, std::nanf(""), 3.0f}).item()));

  // The gradient goes to the first maximum of each slice only.
  Tensor p = x.clone().set_requires_grad();
  max(p, {1}).backward(Tensor{10.0f, 20.0f});
  CHECK(p.grad().to_vector() == std::vector<float>{10, 0, 0, 20, 0, 0});
  Tensor q = Tensor{{1, 5}, {5, 2}}.set_requires_grad();
  max(q).backward();
  CHECK(q.grad().to_vector() == std::vector<float>{0, 1, 0, 0});
}

TEST_CASE("sum, mean and var: fixed backward values", "[reduce]") {
  Tensor x = Tensor{{1, 2, 3}, {4, 5, 6}}.set_requires_grad();
  sum(x, {1}, true).backward(from_vector({1, 2}, {2, 1}));
  CHECK(x.grad().to_vector() == std::vector<float>{1, 1, 1, 2, 2, 2});
  x.zero_grad();
  mean(x, {0}).backward(Tensor{2, 4, 6});
  CHECK(x.grad().to_vector() == std::vector<float>{1, 2, 3, 1, 2, 3});
  x.zero_grad();
  // d var / dx = 2 (x - mean) / (n - 1) with n = 3: row means 2 and 5.
  var(x, {1}).backward(Tensor{1, 3});
  CHECK(x.grad().to_vector() == std::vector<float>{-1, 0, 1, -3, 0, 3});
}

TEST_CASE("reductions: gradients over axis sets", "[reduce][gradcheck]") {
  // Tolerances: see `tight`. max has no tie within h: shuffled() keeps values 0.1 apart.
  Tensor x = shuffled({2, 3, 4}, 7);
  for (const std::vector<int>& axes : axis_sets) {
    for (bool keepdim : {false, true}) {
      INFO("axes of size " << axes.size() << (axes.empty() ? "" : ", first " + std::to_string(axes[0]))
                           << ", keepdim " << keepdim);
      check_grad([&](const std::vector<Tensor>& in) { return sum(in[0], axes, keepdim); }, x);
      check_grad([&](const std::vector<Tensor>& in) { return mean(in[0], axes, keepdim); }, x);
      check_grad([&](const std::vector<Tensor>& in) { return var(in[0], axes, true, keepdim); }, x);
      check_grad([&](const std::vector<Tensor>& in) { return var(in[0], axes, false, keepdim); }, x);
      check_grad([&](const std::vector<Tensor>& in) { return max(in[0], axes, keepdim); }, x);
    }
  }
  // Composed with broadcasting: x - mean(x) is the centring every normalization uses.
  check_grad([](const std::vector<Tensor>& in) { return in[0] - mean(in[0], {0, 2}, true); }, x);
  Tensor positive = (shuffled({3, 4}, 9).detach() + 5.0f).set_requires_grad();
  check_grad([](const std::vector<Tensor>& in) { return in[0] / max(in[0], {-1}, true); }, positive);
}

TEST_CASE("reductions: bad axes and empty reductions throw", "[reduce][errors]") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH(sum(x, {2}), Catch::Contains("sum: axis 2 is out of range for a tensor of rank 2"));
  CHECK_THROWS_WITH(mean(x, {-3}), Catch::Contains("mean: axis -3 is out of range"));
  CHECK_THROWS_WITH(max(x, {0, -2}), Catch::Contains("max: an axis is repeated"));
  CHECK_THROWS_WITH(sum(Tensor(), {0}), Catch::Contains("sum: the input is undefined"));
  CHECK_THROWS_WITH(var(ones({3, 1}), {1}),
                    Catch::Contains("var") && Catch::Contains("(3, 1)") && Catch::Contains("at least 2"));
  CHECK_THROWS_WITH(var(scalar_tensor(1.0f)), Catch::Contains("var") && Catch::Contains("()"));
  CHECK_THROWS_WITH(var(zeros({0, 2}), {0}, false), Catch::Contains("var") && Catch::Contains("(0, 2)"));
  CHECK_THROWS_WITH(max(zeros({2, 0}), {1}),
                    Catch::Contains("max") && Catch::Contains("(2, 0)") && Catch::Contains("no elements"));
  CHECK_THROWS_WITH(max(zeros({0})), Catch::Contains("max") && Catch::Contains("(0)"));
  CHECK_THROWS_WITH(mean(zeros({0, 3}), {0}), Catch::Contains("mean") && Catch::Contains("(0, 3)"));
}
