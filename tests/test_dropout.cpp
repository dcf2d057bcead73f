// dropout: the mask follows the generator, the statistics match p, evaluation is the identity, the
// gradient uses the same mask, and a bad p is named.
#include <catch2/catch.hpp>

#include <cmath>

#include "gradcheck.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::gradcheck;

TEST_CASE("dropout: the mask is drawn in element order from the generator", "[dropout]") {
  Generator data_gen(1);
  Tensor x = randn({6, 7}, data_gen);
  Generator gen(42), replay(42);
  const float p = 0.4f;
  Tensor y = dropout(x, p, true, gen);
  const float scale = 1.0f / (1.0f - p);
  for (std::size_t i = 0; i < x.numel(); ++i) {
    const bool dropped = replay.uniform() < p;
    CHECK(y.data()[i] == (dropped ? 0.0f : x.data()[i] * scale));
  }
  // The same seed gives the same output; the generator has moved on, so a second call differs.
  Generator again(42);
  CHECK(dropout(x, p, true, again).to_vector() == y.to_vector());
  CHECK(dropout(x, p, true, again).to_vector() != y.to_vector());
}

TEST_CASE("dropout: fraction zeroed is p and the mean is preserved", "[dropout]") {
  Generator gen(7);
  const std::size_t n = 100000;
  for (float p : {0.1f, 0.5f, 0.8f}) {
    INFO("p = " << p);
    Tensor y = dropout(ones({n}), p, true, gen);
    std::size_t zeros_count = 0;
    double total = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      zeros_count += y.data()[i] == 0.0f;
      total += y.data()[i];
    }
    // Binomial: the zeroed fraction has standard deviation sqrt(p (1 - p) / n) <= 0.0016, the mean
    // sqrt(p / (1 - p) / n) <= 0.0064; the margins are about 6 of those.
    CHECK(double(zeros_count) / n == Approx(p).margin(0.01));
    CHECK(total / n == Approx(1.0).margin(0.04));
  }
}

TEST_CASE("dropout: evaluation and p = 0 are the identity and draw nothing", "[dropout]") {
  Tensor x = Tensor{1.0f, -2.0f, 3.0f}.set_requires_grad();
  Generator gen(3);
  const auto state = gen.state();
  CHECK(dropout(x, 0.5f, false, gen).same(x));
  CHECK(dropout(x, 0.0f, true, gen).same(x));
  CHECK(gen.state() == state);
}

TEST_CASE("dropout: the gradient is the upstream times the same mask", "[dropout][gradcheck]") {
  Tensor x = ones({4, 5}).set_requires_grad();
  Generator gen(9);
  Tensor y = dropout(x, 0.3f, true, gen);  // with x = 1, y is the mask itself
  Generator ugen(10);
  Tensor u = randn({4, 5}, ugen);
  y.backward(u);
  for (std::size_t i = 0; i < x.numel(); ++i) CHECK(x.grad().data()[i] == u.data()[i] * y.data()[i]);

  // A fresh generator per call keeps the mask fixed, so the op is linear and differences are exact
  // up to float32 rounding (~1e-6 relative): the default tolerances are ample.
  Generator xgen(11);
  Tensor in = randn({3, 4}, xgen).set_requires_grad();
  auto r = gradcheck([](const std::vector<Tensor>& v) {
    Generator g(12);
    return dropout(v[0], 0.5f, true, g);
  }, {in});
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("dropout: p outside 0 <= p < 1 is named", "[dropout][errors]") {
  Generator gen(0);
  CHECK_THROWS_WITH(dropout(ones({2}), 1.0f, true, gen), "dropout: p must be in [0, 1), got 1");
  CHECK_THROWS_WITH(dropout(ones({2}), -0.5f, true, gen), "dropout: p must be in [0, 1), got -0.5");
  CHECK_THROWS_WITH(dropout(ones({2}), NAN, false, gen), Catch::Contains("dropout: p must be in [0, 1)"));
}
