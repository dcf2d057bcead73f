// Parameter initializers with torch.nn.init's names, fan rules and gains, each drawing from an explicit
// Generator so a model is reproducible from one seed. They fill a tensor's storage in place (no graph is
// recorded, like torch's init under no_grad). Not layers: Dense and Conv2d call them at construction.
#pragma once
#include <cstddef>

#include "xgrad/core/generator.hpp"
#include "xgrad/core/tensor.hpp"

namespace xgrad {

struct Fans {
  std::size_t fan_in;
  std::size_t fan_out;
};

// torch.nn.init._calculate_fan_in_and_fan_out: for a weight (out, in, k...) with receptive field
// R = prod(k...), fan_in = in * R and fan_out = out * R. Needs rank >= 2.
Fans calculate_fan_in_and_fan_out(const Shape& shape);

enum class FanMode { FanIn, FanOut };
enum class Nonlinearity { Linear, Conv, Sigmoid, Tanh, ReLU, LeakyReLU, SELU };

// torch.nn.init.calculate_gain: 1 for Linear/Conv/Sigmoid, 5/3 for Tanh, sqrt(2) for ReLU,
// sqrt(2 / (1 + a^2)) for LeakyReLU with negative slope `param`, 3/4 for SELU.
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);

// U(low, high) and N(mean, std^2).
void uniform_(Tensor t, float low, float high, Generator& gen);
void normal_(Tensor t, float mean, float std, Generator& gen);

// Glorot: std = gain * sqrt(2 / (fan_in + fan_out)); the uniform bound is sqrt(3) * std.
void xavier_uniform_(Tensor t, Generator& gen, double gain = 1.0);
void xavier_normal_(Tensor t, Generator& gen, double gain = 1.0);

// He: std = gain / sqrt(fan) with gain = calculate_gain(nonlinearity, a); the uniform bound is
// sqrt(3) * std. torch's defaults: a = 0, fan_in, leaky_relu (which is He's sqrt(2) for ReLU).
void kaiming_uniform_(Tensor t, Generator& gen, double a = 0.0, FanMode mode = FanMode::FanIn,
                      Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);
void kaiming_normal_(Tensor t, Generator& gen, double a = 0.0, FanMode mode = FanMode::FanIn,
                     Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);

// PyTorch's reset_parameters() for nn.Linear and nn.Conv2d: kaiming_uniform_ with a = sqrt(5), which
// works out to weight ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); then bias (if defined) ~ the same U.
// The weight is drawn first, then the bias, as in PyTorch.
void default_layer_init_(Tensor weight, Tensor bias, Generator& gen);

}  // namespace xgrad
