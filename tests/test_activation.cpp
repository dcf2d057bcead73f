// Activations and softmax: reference values, stability at extreme inputs, gradients, and errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "gradcheck.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::gradcheck;
using xgrad::testing::random_param;

namespace {


// Random values kept at least 0.1 away from 0, where relu and leaky_relu have their kink: with h = 1e-2
// a central difference never straddles it.
Tensor away_from_zero(const Shape& shape, std::uint64_t seed) {
  Tensor x = random_param(shape, seed).detach();
  for (std::size_t i = 0; i < x.numel(); ++i) x.data()[i] += x.data()[i] >= 0.0f ? 0.1f : -0.1f;
  return x.set_requires_grad();
}

void check_grad(const std::function<Tensor(const std::vector<Tensor>&)>& f, const Tensor& x) {
  // Smooth O(1) functions: the central-difference error is h^2 f''' / 6 ~ 2e-5 with h = 1e-2, and float32
  // rounding of the summed loss adds ~1e-6 / h = 1e-4; the defaults (atol 1e-3, rtol 1e-2) cover both.
  auto r = gradcheck(f, {x});
  INFO(r.message);
  CHECK(r.ok);
}

}  // namespace

TEST_CASE("relu and leaky_relu: values, and gradient 0 at 0 for relu", "[activation]") {
  Tensor x = Tensor{-2.0f, -0.0f, 0.0f, 3.0f}.set_requires_grad();
  Tensor y = relu(x);
  CHECK(y.to_vector() == std::vector<float>{0, 0, 0, 3});
  y.backward(Tensor{1.0f, 1.0f, 1.0f, 1.0f});
  CHECK(x.grad().to_vector() == std::vector<float>{0, 0, 0, 1});
  CHECK(std::isnan(relu(Tensor{NAN}).item()));  // NaN propagates, as in PyTorch

  Tensor z = Tensor{-2.0f, 0.0f, 3.0f}.set_requires_grad();
  Tensor l = leaky_relu(z, 0.1f);
  CHECK(l.to_vector() == std::vector<float>{-0.2f, 0.0f, 3.0f});
  l.backward(Tensor{1.0f, 1.0f, 1.0f});
  CHECK(z.grad().to_vector() == std::vector<float>{0.1f, 0.1f, 1.0f});  // slope at 0, as PyTorch
  CHECK(leaky_relu(Tensor{-100.0f}).item() == -1.0f);                     // default slope 0.01
}

TEST_CASE("sigmoid and tanh: values and no overflow at large |x|", "[activation]") {
  // References from Python's math module: 1 / (1 + exp(-2)), tanh(1).
  CHECK(sigmoid(Tensor{0.0f}).item() == 0.5f);
  CHECK(sigmoid(Tensor{2.0f}).item() == Approx(0.8807970779778823).epsilon(1e-7));
  CHECK(sigmoid(Tensor{-2.0f}).item() == Approx(1.0 - 0.8807970779778823).epsilon(1e-6));
  Tensor big = sigmoid(Tensor{-1000.0f, -100.0f, 100.0f, 1000.0f});
  CHECK(big.at({0}) == 0.0f);
  // e^-100 is a float32 subnormal, spaced 1.4e-45 apart: only ~2% relative precision is left, but it is
  // neither 0 nor NaN.
  CHECK(big.at({1}) == Approx(std::exp(-100.0)).epsilon(0.05));
  CHECK(big.at({2}) == 1.0f);
  CHECK(big.at({3}) == 1.0f);
  CHECK(tanh(Tensor{1.0f}).item() == Approx(0.7615941559557649).epsilon(1e-7));
  CHECK(tanh(Tensor{-50.0f}).item() == -1.0f);
}

TEST_CASE("gelu: exact-form reference values", "[activation]") {
  // 0.5 x (1 + erf(x / sqrt 2)) from Python's math.erf; gelu(1) = 0.8413447 as in PyTorch's docs.
  const std::vector<std::pair<float, double>> cases = {
      {-3.0f, -0.00404969409489031}, {-1.0f, -0.15865525393145707}, {-0.5f, -0.15426876936299344},
      {0.0f, 0.0},                   {0.5f, 0.34573123063700656},   {1.0f, 0.8413447460685429},
      {2.0f, 1.9544997361036416},    {3.0f, 2.99595030590511}};
  for (const auto& [x, want] : cases) {
    INFO("gelu(" << x << ")");
    CHECK(gelu(Tensor{x}).item() == Approx(want).epsilon(1e-7).margin(1e-9));
  }
}

TEST_CASE("elementwise activations: gradients", "[activation][gradcheck]") {
  Tensor x = random_param({3, 5}, 11);
  check_grad([](const std::vector<Tensor>& in) { return relu(in[0]); }, away_from_zero({3, 5}, 12));
  check_grad([](const std::vector<Tensor>& in) { return leaky_relu(in[0], 0.2f); },
             away_from_zero({3, 5}, 13));
  check_grad([](const std::vector<Tensor>& in) { return sigmoid(in[0]); }, x);
  check_grad([](const std::vector<Tensor>& in) { return tanh(in[0]); }, x);
  check_grad([](const std::vector<Tensor>& in) { return gelu(in[0]); }, x);
}

TEST_CASE("softmax and log_softmax: reference values and stability", "[activation][softmax]") {
  // softmax([1, 2, 3]) and its log, from Python.
  const std::vector<double> sm = {0.09003057317038046, 0.24472847105479764, 0.6652409557748218};
  const std::vector<double> lsm = {-2.4076059644443806, -1.4076059644443804, -0.4076059644443804};
  for (float shift : {0.0f, 1000.0f, -1000.0f}) {  // shifting the inputs changes nothing, nor overflows
    INFO("shift " << shift);
    Tensor x{1.0f + shift, 2.0f + shift, 3.0f + shift};
    Tensor s = softmax(x), l = log_softmax(x);
    for (std::size_t c = 0; c < 3; ++c) {
      CHECK(s.at({c}) == Approx(sm[c]).epsilon(1e-6));
      CHECK(l.at({c}) == Approx(lsm[c]).epsilon(1e-6));
    }
  }
  // A very negative logit underflows to probability 0 but keeps a finite log-probability.
  Tensor l = log_softmax(Tensor{0.0f, -200.0f});
  CHECK(softmax(Tensor{0.0f, -200.0f}).at({1}) == 0.0f);
  CHECK(l.at({1}) == Approx(-200.0f));
}

TEST_CASE("softmax along each axis of a rank-3 tensor matches a direct computation",
          "[activation][softmax]") {
  Tensor x = random_param({2, 3, 4}, 21).detach();
  for (int axis : {0, 1, 2, -1, -3}) {
    INFO("axis " << axis);
    const std::size_t a = static_cast<std::size_t>(axis < 0 ? axis + 3 : axis);
    Tensor s = softmax(x, axis), l = log_softmax(x, axis);
    for (std::size_t i = 0; i < 2; ++i) {
      for (std::size_t j = 0; j < 3; ++j) {
        for (std::size_t k = 0; k < 4; ++k) {
          std::vector<std::size_t> idx{i, j, k};
          double total = 0.0;
          for (std::size_t c = 0; c < x.size(axis); ++c) {
            std::vector<std::size_t> other = idx;
            other[a] = c;
            total += std::exp(double(x.at(other)));
          }
          CHECK(s.at(idx) == Approx(std::exp(double(x.at(idx))) / total).epsilon(1e-6));
          CHECK(l.at(idx) == Approx(double(x.at(idx)) - std::log(total)).epsilon(1e-6).margin(1e-6));
        }
      }
    }
  }
  CHECK(softmax(full({}, 3.0f)).item() == 1.0f);  // a scalar is a softmax over one element
}

TEST_CASE("softmax and log_softmax: gradients along every axis", "[activation][softmax][gradcheck]") {
  for (int axis : {0, 1, 2}) {
    INFO("axis " << axis);
    Tensor x = random_param({2, 3, 4}, 30 + axis);
    check_grad([axis](const std::vector<Tensor>& in) { return softmax(in[0], axis); }, x);
    check_grad([axis](const std::vector<Tensor>& in) { return log_softmax(in[0], axis); }, x);
  }
}

TEST_CASE("softmax: a bad axis is named", "[activation][softmax][errors]") {
  CHECK_THROWS_WITH(softmax(zeros({2, 3}), 2), "softmax: axis 2 is out of range for a tensor of rank 2");
  CHECK_THROWS_WITH(log_softmax(zeros({2, 3}), -3),
                    "log_softmax: axis -3 is out of range for a tensor of rank 2");
  CHECK_THROWS_WITH(relu(Tensor()), Catch::Contains("relu: the input is undefined"));
}
