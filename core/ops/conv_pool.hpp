// 2-D convolution and pooling on NCHW tensors, with PyTorch's arguments and output sizes.
#pragma once
#include <optional>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

// A (height, width) pair; an int means both.
struct Size2 {
  int h, w;
  Size2(int both) : h(both), w(both) {}  // NOLINT: implicit like PyTorch's int-or-tuple arguments
  Size2(int height, int width) : h(height), w(width) {}
  bool operator==(const Size2&) const = default;
};

// x (N, C, H, W), weight (O, C / groups, KH, KW), bias (O) or undefined -> (N, O, OH, OW) with
// OH = (H + 2 pad - dil (KH - 1) - 1) / stride + 1 (PyTorch's F.conv2d). groups: the channels form `groups`
// consecutive blocks, each convolved with its own O / groups filters (C and O divisible by groups);
// groups == C is a depthwise convolution.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Size2 stride = 1,
              Size2 padding = 0, Size2 dilation = 1, int groups = 1);
// Padding counts as -infinity for max and as zero for average (count_include_pad, PyTorch's default).
// The stride defaults to the kernel size.
Tensor max_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride = std::nullopt, Size2 padding = 0);
Tensor avg_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride = std::nullopt, Size2 padding = 0);

}  // namespace xgrad
