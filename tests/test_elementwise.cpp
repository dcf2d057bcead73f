// Elementwise ops: values, broadcasting, gradients and errors.
#include <catch2/catch.hpp>

#include "gradcheck.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::gradcheck;
using xgrad::testing::random_param;

TEST_CASE("add broadcasts like NumPy", "[elementwise]") {
  Tensor a{{1, 2, 3}, {4, 5, 6}};
  Tensor b{10, 20, 30};
  Tensor c = a + b;
  REQUIRE(c.shape() == Shape{2, 3});
  CHECK(c.to_vector() == std::vector<float>{11, 22, 33, 14, 25, 36});
  Tensor col = from_vector({100, 200}, {2, 1});
  CHECK((a + col).to_vector() == std::vector<float>{101, 102, 103, 204, 205, 206});
}

TEST_CASE("binary ops: gradients with broadcasting", "[elementwise][gradcheck]") {
  // h = 1e-2 on O(1) values: float32 rounding of L is ~1e-6 relative, so numeric error ~1e-4.
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{2, 1, 4}, {3, 1}}, {{4}, {}}, {{1, 3}, {2, 1}}};
  for (const auto& [sa, sb] : cases) {
    Tensor a = random_param(sa, 1), b = random_param(sb, 2);
    CHECK(gradcheck([](const std::vector<Tensor>& in) { return in[0] + in[1]; }, {a, b}).ok);
    CHECK(gradcheck([](const std::vector<Tensor>& in) { return in[0] - in[1]; }, {a, b}).ok);
    CHECK(gradcheck([](const std::vector<Tensor>& in) { return in[0] * in[1]; }, {a, b}).ok);
    // Keep the divisor away from 0.
    Tensor d = add(abs(b.detach()), 1.0f).set_requires_grad();
    auto r = gradcheck([](const std::vector<Tensor>& in) { return in[0] / in[1]; }, {a, d});
    INFO(r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("unary ops: gradients", "[elementwise][gradcheck]") {
  Tensor x = random_param({3, 4}, 3);
  Tensor pos = add(abs(x.detach()), 0.5f).set_requires_grad();  // domain of log, sqrt, pow
  auto check = [](const std::function<Tensor(const std::vector<Tensor>&)>& f, const Tensor& in) {
    auto r = gradcheck(f, {in});
    INFO(r.message);
    CHECK(r.ok);
  };
  check([](const std::vector<Tensor>& in) { return neg(in[0]); }, x);
  check([](const std::vector<Tensor>& in) { return exp(in[0]); }, x);
  check([](const std::vector<Tensor>& in) { return log(in[0]); }, pos);
  check([](const std::vector<Tensor>& in) { return sqrt(in[0]); }, pos);
  check([](const std::vector<Tensor>& in) { return pow(in[0], 3.0f); }, x);
  check([](const std::vector<Tensor>& in) { return pow(in[0], -1.5f); }, pos);
  check([](const std::vector<Tensor>& in) { return abs(in[0]); }, pos);
  check([](const std::vector<Tensor>& in) { return clamp(in[0], 0.9f, 1.6f); }, pos);
  check([](const std::vector<Tensor>& in) { return 2.0f - in[0] / 4.0f + 3.0f * in[0]; }, x);
  check([](const std::vector<Tensor>& in) { return 1.0f / in[0]; }, pos);
}

TEST_CASE("a tensor used twice accumulates both gradients", "[autograd]") {
  Tensor x = Tensor{1.0f, 2.0f, 3.0f}.set_requires_grad();
  Tensor y = x * x + x;  // dy/dx = 2x + 1
  y.backward(ones({3}));
  CHECK(x.grad().to_vector() == std::vector<float>{3, 5, 7});
}

TEST_CASE("mismatched shapes name both shapes", "[elementwise][errors]") {
  Tensor a = zeros({2, 3}), b = zeros({4});
  CHECK_THROWS_WITH(a + b, Catch::Contains("add") && Catch::Contains("(2, 3)") && Catch::Contains("(4)"));
  CHECK_THROWS_WITH(a * zeros({3, 3}), Catch::Contains("mul") && Catch::Contains("(3, 3)"));
  CHECK_THROWS_AS(clamp(a, 2.0f, 1.0f), Error);
}
