// layer_norm: torch.nn.functional.layer_norm. Each sample is normalized over its last k axes
// (normalized_shape) by its own mean and biased variance; weight and bias have normalized_shape and apply
// elementwise. x viewed as (rows, D) is group norm with one group of D channels of one value each, so it
// runs on group_norm's graph op and fused kernels. The LayerNorm layer holds options and parameters.
#pragma once
#include "xgrad/core/tensor.hpp"

namespace xgrad {

// x (*, normalized_shape) -> same shape; weight and bias of normalized_shape or undefined.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), float eps = 1e-5f);

}  // namespace xgrad
