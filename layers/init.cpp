// Initializers: see init.hpp. Bounds and standard deviations are computed in double and each drawn value
// is rounded to float once.
#include "xgrad/layers/init.hpp"

#include <cmath>

#include "xgrad/core/error.hpp"

namespace xgrad {
namespace {

void check_defined(const Tensor& t, const char* op) { XGRAD_CHECK(t.defined(), op, ": the tensor is undefined"); }

std::size_t fan(const Tensor& t, FanMode mode, const char* op) {
  XGRAD_CHECK(t.dim() >= 2, op, ": fan in and fan out need a tensor of rank >= 2, got shape ",
              shape_str(t.shape()));
  const Fans fans = calculate_fan_in_and_fan_out(t.shape());
  return mode == FanMode::FanIn ? fans.fan_in : fans.fan_out;
}

void fill_uniform(Tensor& t, double bound, Generator& gen) {
  float* w = t.data();
  for (std::size_t i = 0, n = t.numel(); i < n; ++i) w[i] = static_cast<float>(bound * (2.0 * gen.uniform() - 1.0));
}

void fill_normal(Tensor& t, double mean, double std, Generator& gen) {
  float* w = t.data();
  for (std::size_t i = 0, n = t.numel(); i < n; ++i) w[i] = static_cast<float>(mean + std * gen.normal());
}

}  // namespace

Fans calculate_fan_in_and_fan_out(const Shape& shape) {
  XGRAD_CHECK(shape.size() >= 2, "calculate_fan_in_and_fan_out: needs a tensor of rank >= 2, got shape ",
              shape_str(shape));
  std::size_t receptive = 1;
  for (std::size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  return {shape[1] * receptive, shape[0] * receptive};
}

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Conv:
    case Nonlinearity::Sigmoid: return 1.0;
    case Nonlinearity::Tanh: return 5.0 / 3.0;
    case Nonlinearity::ReLU: return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU: return std::sqrt(2.0 / (1.0 + param * param));
    case Nonlinearity::SELU: return 3.0 / 4.0;
  }
  detail::fail("calculate_gain: unknown nonlinearity");
}

void uniform_(Tensor t, float low, float high, Generator& gen) {
  check_defined(t, "uniform_");
  XGRAD_CHECK(low <= high, "uniform_: low ", low, " is above high ", high);
  float* w = t.data();
  const double a = low, width = static_cast<double>(high) - low;
  for (std::size_t i = 0, n = t.numel(); i < n; ++i) w[i] = static_cast<float>(a + width * gen.uniform());
}

void normal_(Tensor t, float mean, float std, Generator& gen) {
  check_defined(t, "normal_");
  XGRAD_CHECK(std >= 0.0f, "normal_: std ", std, " is negative");
  fill_normal(t, mean, std, gen);
}

void xavier_uniform_(Tensor t, Generator& gen, double gain) {
  check_defined(t, "xavier_uniform_");
  if (t.numel() == 0) return;  // nothing to draw, and the fans could be 0
  const double std = gain * std::sqrt(2.0 / double(fan(t, FanMode::FanIn, "xavier_uniform_") +
                                                   fan(t, FanMode::FanOut, "xavier_uniform_")));
  fill_uniform(t, std::sqrt(3.0) * std, gen);
}

void xavier_normal_(Tensor t, Generator& gen, double gain) {
  check_defined(t, "xavier_normal_");
  if (t.numel() == 0) return;
  const double std = gain * std::sqrt(2.0 / double(fan(t, FanMode::FanIn, "xavier_normal_") +
                                                   fan(t, FanMode::FanOut, "xavier_normal_")));
  fill_normal(t, 0.0, std, gen);
}

void kaiming_uniform_(Tensor t, Generator& gen, double a, FanMode mode, Nonlinearity nonlinearity) {
  check_defined(t, "kaiming_uniform_");
  if (t.numel() == 0) return;
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(double(fan(t, mode, "kaiming_uniform_")));
  fill_uniform(t, std::sqrt(3.0) * std, gen);
}

void kaiming_normal_(Tensor t, Generator& gen, double a, FanMode mode, Nonlinearity nonlinearity) {
  check_defined(t, "kaiming_normal_");
  if (t.numel() == 0) return;
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(double(fan(t, mode, "kaiming_normal_")));
  fill_normal(t, 0.0, std, gen);
}

void default_layer_init_(Tensor weight, Tensor bias, Generator& gen) {
  check_defined(weight, "default_layer_init_");
  if (weight.numel() == 0) return;
  // gain(leaky_relu, sqrt(5)) = sqrt(2 / 6), so bound = sqrt(3) * sqrt(1/3) / sqrt(fan_in) = 1 / sqrt(fan_in).
  const double bound = 1.0 / std::sqrt(double(fan(weight, FanMode::FanIn, "default_layer_init_")));
  fill_uniform(weight, bound, gen);
  if (bias.defined()) fill_uniform(bias, bound, gen);
}

}  // namespace xgrad
