// Conv/BatchNorm folding for inference: an eval-mode BatchNorm after a Conv2d or Dense is an affine map
// per output channel, so it can be folded into that layer's weight and bias, saving a pass over the
// activations. Only for inference: the folded layer no longer normalizes by batch statistics.
#pragma once
#include <memory>

#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/layers/conv2d.hpp"
#include "xgrad/layers/dense.hpp"
#include "xgrad/models/sequential.hpp"

namespace xgrad {

// With s = gamma / sqrt(running_var + eps) per output channel (gamma = 1 and beta = 0 without affine):
//   W'[o, ...] = W[o, ...] * s[o],   b'[o] = (b[o] - running_mean[o]) * s[o] + beta[o]   (b = 0 if none),
// computed in double and rounded once. The result is a new layer with a bias and the same options,
// whose output equals bn(layer(x)) in eval mode. The bn must track running statistics and be in eval
// mode (its fused ReLU, if any, is not part of the result; fuse_conv_bn keeps it); a Conv2d pairs with a
// BatchNorm2d, a Dense with a BatchNorm1d, of matching channel count.
// Folding a Dense assumes its input is (N, in_features), so that the BatchNorm1d's channels are the
// Dense's output features (with (N, L, in_features) input, BatchNorm1d would normalize over L instead).
std::shared_ptr<Conv2d> fuse_conv_bn_eval(const Conv2d& conv, const BatchNorm& bn);
std::shared_ptr<Dense> fuse_linear_bn_eval(const Dense& dense, const BatchNorm& bn);

// A new Sequential for inference in which every Conv2d or Dense directly followed by a BatchNorm is
// replaced by the fused layer (keeping the conv's name) and the BatchNorm by an Identity (keeping its
// name and position, as torch.ao.quantization.fuse_modules does), or by a ReLU if the BatchNorm had one
// fused (BatchNormOptions::fused_relu), or by a Sequential of a ReLU and a MaxPool2d(2) if it had both
// (fused_max_pool). Nested Sequentials are fused
// recursively; every other module is shared with `model`, not copied. The whole model must be in eval
// mode.
std::shared_ptr<Sequential> fuse_conv_bn(const Sequential& model);

}  // namespace xgrad
