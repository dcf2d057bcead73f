// Initializers: fan rules, gains, bounds and spreads of the drawn values, and determinism by seed.
#include <catch2/catch.hpp>

#include <cmath>

#include "xgrad/layers/init.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

namespace {

struct Stats {
  double mean, std, max_abs;
};

Stats stats(const Tensor& t) {
  double sum = 0, sq = 0, max_abs = 0;
  for (float v : t.to_vector()) {
    sum += v;
    max_abs = std::max(max_abs, double(std::fabs(v)));
  }
  const double mean = sum / double(t.numel());
  for (float v : t.to_vector()) sq += (v - mean) * (v - mean);
  return {mean, std::sqrt(sq / double(t.numel())), max_abs};
}

// The sample std of n = 32768 draws is within 3% of the true one with overwhelming probability
// (its relative standard error is about 1 / sqrt(2n) = 0.4% for a normal, less for a uniform); and the
// sample mean within 5 standard errors (std / sqrt(n) = 0.55% of std) of 0: with a dozen such checks,
// 3 standard errors would fail by chance a few percent of the time for an arbitrary seed.
void check_spread(const Stats& s, double expected_std) {
  CHECK(s.std == Approx(expected_std).epsilon(0.03));
  CHECK(std::fabs(s.mean) < 5.0 * expected_std / std::sqrt(32768.0));
}

}  // namespace

TEST_CASE("fan in and fan out follow torch's rule", "[init]") {
  Fans conv = calculate_fan_in_and_fan_out({16, 3, 5, 5});  // receptive field 25
  CHECK(conv.fan_in == 75);
  CHECK(conv.fan_out == 400);
  Fans dense = calculate_fan_in_and_fan_out({10, 4});  // weight (out, in)
  CHECK(dense.fan_in == 4);
  CHECK(dense.fan_out == 10);
  CHECK_THROWS_WITH(calculate_fan_in_and_fan_out({7}), Catch::Contains("rank >= 2") && Catch::Contains("(7)"));
}

TEST_CASE("calculate_gain matches torch.nn.init.calculate_gain", "[init]") {
  CHECK(calculate_gain(Nonlinearity::Linear) == 1.0);
  CHECK(calculate_gain(Nonlinearity::Sigmoid) == 1.0);
  CHECK(calculate_gain(Nonlinearity::Tanh) == Approx(5.0 / 3.0));
  CHECK(calculate_gain(Nonlinearity::ReLU) == Approx(1.4142135623730951));
  CHECK(calculate_gain(Nonlinearity::LeakyReLU) == Approx(std::sqrt(2.0 / 1.0001)));
  CHECK(calculate_gain(Nonlinearity::LeakyReLU, std::sqrt(5.0)) == Approx(std::sqrt(1.0 / 3.0)));
  CHECK(calculate_gain(Nonlinearity::SELU) == 0.75);
}

TEST_CASE("kaiming_uniform_ draws within sqrt(6 / fan_in) with the uniform's std", "[init]") {
  Generator gen(1);
  Tensor w = empty({256, 128});  // fan_in 128, fan_out 256
  kaiming_uniform_(w, gen);      // a = 0, leaky_relu: gain sqrt(2)
  const double bound = std::sqrt(6.0 / 128.0);
  Stats s = stats(w);
  CHECK(s.max_abs <= bound);
  CHECK(s.max_abs > 0.99 * bound);  // the range is used
  check_spread(s, bound / std::sqrt(3.0));

  kaiming_uniform_(w, gen, 0.0, FanMode::FanOut, Nonlinearity::ReLU);
  s = stats(w);
  CHECK(s.max_abs <= std::sqrt(6.0 / 256.0));
  check_spread(s, std::sqrt(2.0 / 256.0));
}

TEST_CASE("kaiming_normal_ has std gain / sqrt(fan)", "[init]") {
  Generator gen(2);
  Tensor w = empty({32, 64, 4, 4});  // fan_in 1024, fan_out 512, 32768 values
  kaiming_normal_(w, gen, 0.0, FanMode::FanIn, Nonlinearity::ReLU);
  check_spread(stats(w), std::sqrt(2.0 / 1024.0));
  kaiming_normal_(w, gen, 0.0, FanMode::FanOut, Nonlinearity::Tanh);
  check_spread(stats(w), (5.0 / 3.0) / std::sqrt(512.0));
}

TEST_CASE("xavier initializers use fan_in + fan_out", "[init]") {
  Generator gen(3);
  Tensor w = empty({128, 256});
  xavier_uniform_(w, gen, 2.0);
  const double std = 2.0 * std::sqrt(2.0 / (128.0 + 256.0));
  Stats s = stats(w);
  CHECK(s.max_abs <= std::sqrt(3.0) * std);
  CHECK(s.max_abs > 0.99 * std::sqrt(3.0) * std);
  check_spread(s, std);
  xavier_normal_(w, gen);
  check_spread(stats(w), std::sqrt(2.0 / 384.0));
}

TEST_CASE("default_layer_init_ is PyTorch's Linear/Conv2d default: U(+-1/sqrt(fan_in))", "[init]") {
  Generator gen(4);
  Tensor w = empty({512, 16, 2, 2});  // fan_in 64
  Tensor b = empty({512});
  default_layer_init_(w, b, gen);
  const double bound = 1.0 / 8.0;
  Stats sw = stats(w), sb = stats(b);
  CHECK(sw.max_abs <= bound);
  CHECK(sw.max_abs > 0.99 * bound);
  check_spread(sw, bound / std::sqrt(3.0));
  CHECK(sb.max_abs <= bound);
  CHECK(sb.max_abs > 0.9 * bound);
  // Same as kaiming_uniform_ with a = sqrt(5), drawn in the same order.
  Generator g1(9), g2(9);
  Tensor w1 = empty({6, 5}), w2 = empty({6, 5});
  default_layer_init_(w1, Tensor(), g1);
  kaiming_uniform_(w2, g2, std::sqrt(5.0));
  for (std::size_t i = 0; i < w1.numel(); ++i) CHECK(w1.data()[i] == Approx(w2.data()[i]).epsilon(1e-6));
}

TEST_CASE("initializers are deterministic by seed", "[init]") {
  auto draw = [](std::uint64_t seed) {
    Generator gen(seed);
    Tensor a = empty({8, 3, 3, 3}), b = empty({8, 27});
    kaiming_uniform_(a, gen);
    xavier_normal_(b, gen);
    std::vector<float> out = a.to_vector(), tail = b.to_vector();
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
  };
  CHECK(draw(42) == draw(42));
  CHECK(draw(42) != draw(43));
}

TEST_CASE("uniform_ and normal_ fill in place", "[init]") {
  Generator gen(5);
  Tensor t = empty({32768});
  uniform_(t, -2.0f, 6.0f, gen);
  std::vector<float> v = t.to_vector();
  CHECK(*std::min_element(v.begin(), v.end()) >= -2.0f);
  CHECK(*std::max_element(v.begin(), v.end()) <= 6.0f);
  CHECK(stats(t).mean == Approx(2.0).margin(5.0 * 8.0 / std::sqrt(12.0 * 32768.0)));
  normal_(t, 1.5f, 0.5f, gen);
  CHECK(stats(t).mean == Approx(1.5).margin(5.0 * 0.5 / std::sqrt(32768.0)));
  CHECK(stats(t).std == Approx(0.5).epsilon(0.03));
}

TEST_CASE("initializer errors name the initializer and the shape", "[init][errors]") {
  Generator gen(6);
  CHECK_THROWS_WITH(kaiming_uniform_(empty({5}), gen), Catch::Contains("kaiming_uniform_") && Catch::Contains("(5)"));
  CHECK_THROWS_WITH(xavier_normal_(empty({5}), gen), Catch::Contains("xavier_normal_") && Catch::Contains("(5)"));
  CHECK_THROWS_WITH(kaiming_normal_(Tensor(), gen), Catch::Contains("kaiming_normal_") && Catch::Contains("undefined"));
  CHECK_THROWS_WITH(uniform_(empty({2}), 1.0f, 0.0f, gen), Catch::Contains("uniform_") && Catch::Contains("above"));
  CHECK_THROWS_WITH(normal_(empty({2}), 0.0f, -1.0f, gen), Catch::Contains("normal_") && Catch::Contains("-1"));
}
