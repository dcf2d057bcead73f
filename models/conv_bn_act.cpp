// conv_bn_act: see conv_bn_act.hpp.
#include "xgrad/models/conv_bn_act.hpp"

#include <typeinfo>

#include "xgrad/layers/activations.hpp"
#include "xgrad/layers/identity.hpp"

namespace xgrad {

std::shared_ptr<Sequential> conv_bn_act(int in_channels, int out_channels, Size2 kernel_size,
                                        std::shared_ptr<Module> activation, Generator& gen,
                                        const ConvBnActOptions& options) {
  const Size2 d = options.dilation;
  const Size2 padding = options.padding.value_or(Size2(d.h * (kernel_size.h - 1) / 2, d.w * (kernel_size.w - 1) / 2));
  // bias = false: BatchNorm's mean subtraction cancels a conv bias, and its beta replaces it.
  auto conv = std::make_shared<Conv2d>(Conv2dOptions{.in_channels = in_channels,
                                                     .out_channels = out_channels,
                                                     .kernel_size = kernel_size,
                                                     .stride = options.stride,
                                                     .padding = padding,
                                                     .dilation = d,
                                                     .bias = false},
                                       gen);
  BatchNormOptions bn_options = options.batch_norm;
  bn_options.num_features = out_channels;
  // A ReLU itself (not a subclass, whose forward may differ) is fused into the BatchNorm; an Identity keeps
  // its place, so that names and positions are those of the unfused block.
  const bool fuse_relu = activation && typeid(*activation) == typeid(ReLU);
  if (fuse_relu) bn_options.fused_relu = true;
  auto block = std::make_shared<Sequential>();
  block->add(conv);
  block->add(std::make_shared<BatchNorm2d>(bn_options));
  if (fuse_relu) {
    block->add(std::make_shared<Identity>());
  } else if (activation) {
    block->add(std::move(activation));
  }
  return block;
}

}  // namespace xgrad
