// Conv2d: torch.nn.Conv2d's layer on top of the conv2d() op, NCHW, with padding given as a size or as
// "same"/"valid". Weight and bias are drawn at construction from the Generator given, like PyTorch's
// reset_parameters(). Not the op (core/ops/conv_pool.hpp); no padding modes other than zeros.
#pragma once
#include <string>

#include "xgrad/core/generator.hpp"
#include "xgrad/core/ops/conv_pool.hpp"
#include "xgrad/layers/module.hpp"

namespace xgrad {

// A size, or PyTorch's string forms: "valid" (no padding) and "same" (output size = input size; stride 1
// and odd effective kernels only, where pad = dilation * (kernel - 1) / 2 on both sides).
struct Conv2dPadding {
  Conv2dPadding(int both) : size(both) {}  // NOLINT: implicit like PyTorch's int-or-tuple arguments
  Conv2dPadding(int height, int width) : size(height, width) {}
  Conv2dPadding(Size2 s) : size(s) {}  // NOLINT
  Conv2dPadding(const char* mode);     // NOLINT: "same" or "valid"
  bool same = false;
  Size2 size;  // meaningful when !same
};

struct Conv2dOptions {
  int in_channels = 0;
  int out_channels = 0;
  Size2 kernel_size = 1;
  Size2 stride = 1;
  Conv2dPadding padding = 0;
  Size2 dilation = 1;  // >= 1: the kernel's taps are `dilation` apart (atrous convolution)
  // The channels form `groups` blocks, each convolved with its own out_channels / groups filters;
  // in_channels and out_channels must be divisible by it. groups == in_channels: depthwise convolution.
  int groups = 1;
  bool bias = true;
};

// Parameters: weight (out_channels, in_channels / groups, KH, KW) and, if options.bias, bias (out_channels),
// both ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels / groups * KH * KW.
// Input (N, in_channels, H, W) -> (N, out_channels, OH, OW), OH = (H + 2 padding - dilation (KH - 1) - 1) /
// stride + 1 (floor), as PyTorch.
class Conv2d : public Module {
 public:
  Conv2d(const Conv2dOptions& options, Generator& gen);
  // PyTorch's positional order, Conv2d(in, out, kernel_size, stride, padding), then the generator:
  // Conv2d(3, 16, 3, 1, 1, gen), Conv2d(16, 32, 3, 2, "same", gen) (which throws: "same" needs stride 1).
  Conv2d(int in_channels, int out_channels, Size2 kernel_size, Generator& gen)
      : Conv2d(Conv2dOptions{in_channels, out_channels, kernel_size}, gen) {}
  Conv2d(int in_channels, int out_channels, Size2 kernel_size, Size2 stride, Generator& gen)
      : Conv2d(Conv2dOptions{in_channels, out_channels, kernel_size, stride}, gen) {}
  Conv2d(int in_channels, int out_channels, Size2 kernel_size, Size2 stride, Conv2dPadding padding, Generator& gen)
      : Conv2d(Conv2dOptions{in_channels, out_channels, kernel_size, stride, padding}, gen) {}

  Tensor forward(const Tensor& x) override;
  // Like PyTorch's repr, defaults left out: "Conv2d(3, 16, kernel_size=3, stride=1, padding=1)".
  std::string describe() const override;
  std::shared_ptr<Module> clone() const override;

  const Conv2dOptions& options() const { return options_; }
  // The padding actually applied (resolves "same" and "valid").
  Size2 padding() const { return padding_; }
  // Share storage with the registered parameters; bias() is undefined without a bias.
  Tensor weight() const { return weight_; }
  Tensor bias() const { return bias_; }

 private:
  Conv2dOptions options_;
  Size2 padding_;
  Tensor weight_, bias_;
};

}  // namespace xgrad
