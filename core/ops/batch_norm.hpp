// batch_norm: torch.nn.functional.batch_norm as one graph op over x viewed as (N, C, HW), with the fused
// kernels of core/kernels/batch_norm and an optional fused ReLU; batch_norm_relu_max_pool2d, the same
// followed by a 2x2 max pool. The BatchNorm1d/2d/3d layers hold options, parameters and buffers and call
// them. Not the TensorFlow forms (moments, batch_normalization): those are in
// normalization.hpp, composed from primitive ops, and serve as this op's reference in the tests.
#pragma once
#include "xgrad/core/tensor.hpp"

namespace xgrad {

// How `momentum` enters the running-statistics update.
enum class MomentumConvention {
  PyTorch,  // running = (1 - momentum) * running + momentum * batch   (momentum 0.1)
  Keras,    // moving  = momentum * moving + (1 - momentum) * batch    (momentum 0.99)
};

// What F::batch_norm's signature has no room for; the defaults are PyTorch's semantics.
struct BatchNormExtras {
  MomentumConvention convention = MomentumConvention::PyTorch;
  // The running variance is updated with the unbiased batch variance (divides by M - 1, M = N * HW), as
  // PyTorch does; Keras uses the biased one. Normalizing always uses the biased one.
  bool unbiased_running_var = true;
  // relu(batch_norm(x)) as one op: the same values and gradients (0 where the ReLU's output is 0, as in
  // PyTorch), one pass over the activations fewer each way.
  bool relu = false;
};

// x (N, C, *) -> same shape. weight, bias: (C) or undefined (gamma = 1, beta = 0).
// training: normalize by the batch's mean and biased variance; if running_mean and running_var (both (C))
// are defined, update them in place (outside the graph, in double, rounded once) by `momentum` under the
// extras' convention. Needs more than one value per channel (N * HW > 1).
// Not training: normalize by running_mean and running_var, which must be defined; they are copied, so a
// later update does not change this graph. eps is added to the variance before the square root.
// Graph op names: batch_norm, batch_norm_relu, batch_norm_inference, batch_norm_inference_relu.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(), bool training = false,
                  float momentum = 0.1f, float eps = 1e-5f, const BatchNormExtras& extras = {});

// max_pool2d(relu(batch_norm(x, ...)), 2) as one op (core/kernels/batch_norm_pool.hpp): x (N, C, H, W) with
// H and W even -> (N, C, H / 2, W / 2). The same values and gradients as the three ops run apart, bit for
// bit (the same kernels' arithmetic in the same order), and the same running-statistics update; but the
// full-size activation between them is never stored, nor the full-size gradient the pool's backward
// writes. Arguments as batch_norm's; extras.relu is implied. An odd H or W is an error (a MaxPool2d(2)
// apart would drop the last row or column).
// Graph op names: batch_norm_relu_max_pool2d, batch_norm_inference_relu_max_pool2d.
Tensor batch_norm_relu_max_pool2d(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                                  bool training = false, float momentum = 0.1f, float eps = 1e-5f,
                                  const BatchNormExtras& extras = {});

}  // namespace xgrad
