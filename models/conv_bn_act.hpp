// conv_bn_act: the Conv2d -> BatchNorm2d -> activation block of most CNNs (torchvision's
// Conv2dNormActivation), as a Sequential with children "0" (conv), "1" (bn) and "2" (activation).
#pragma once
#include <memory>
#include <optional>

#include "xgrad/core/generator.hpp"
#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/layers/conv2d.hpp"
#include "xgrad/models/sequential.hpp"

namespace xgrad {

struct ConvBnActOptions {
  Size2 stride = 1;
  // Defaults to dilation * (kernel_size - 1) / 2 per axis: "same" size at stride 1 for odd kernels, and
  // a halving at stride 2 (torchvision's rule).
  std::optional<Size2> padding = std::nullopt;
  Size2 dilation = 1;
  // The BatchNorm2d's options; num_features is set to out_channels.
  BatchNormOptions batch_norm = BatchNormOptions();
};

// `activation` may be null (no activation: the block is conv -> bn). The conv has no bias: the
// BatchNorm right after it subtracts the per-channel mean, which would cancel any bias, and its beta plays
// the bias's role. The conv's weight is drawn from `gen`. A ReLU activation (the class itself) runs fused
// into the BatchNorm (BatchNormOptions::fused_relu: the same values and gradients, one pass fewer each
// way), and child "2" is then an Identity holding its place.
std::shared_ptr<Sequential> conv_bn_act(int in_channels, int out_channels, Size2 kernel_size,
                                        std::shared_ptr<Module> activation, Generator& gen,
                                        const ConvBnActOptions& options = {});

}  // namespace xgrad
