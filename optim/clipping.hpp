// Gradient clipping, in place, like torch.nn.utils.clip_grad_norm_ and clip_grad_value_. Parameters
// without a gradient are skipped. Not an op: nothing is recorded for autograd.
#pragma once
#include <limits>
#include <vector>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

// Scales every gradient by max_norm / (total_norm + 1e-6) when that is below 1, where total_norm is the
// norm of order norm_type (> 0, or infinity for the largest magnitude) of all gradients taken together,
// accumulated in double in a fixed order. Returns total_norm before clipping. A non-finite total norm
// throws if error_if_nonfinite, else (as in PyTorch) scales the gradients by a non-finite factor.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every gradient element into [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

}  // namespace xgrad
