// group_norm: torch.nn.functional.group_norm as one graph op with the fused kernels of
// core/kernels/group_norm. Per sample, each group of C / G consecutive channels is normalized by its own
// mean and biased variance (no running statistics), then weight and bias apply per channel. The GroupNorm
// layer holds its options and parameters and calls it; layer_norm runs on the same graph op.
#pragma once
#include <cstddef>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

// x (N, C, *) -> same shape; weight and bias (C) or undefined.
Tensor group_norm(const Tensor& x, int num_groups, const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  float eps = 1e-5f);

namespace detail {
// The graph op shared with layer_norm: x viewed as (N, C, HW) with G groups; weight and bias hold C values
// (any shape). `op` names the caller in the graph. Shapes are checked by the callers.
Tensor group_norm_op(const Tensor& x, std::size_t N, std::size_t C, std::size_t HW, std::size_t G,
                     const Tensor& weight, const Tensor& bias, float eps, const char* op);
}  // namespace detail

}  // namespace xgrad
