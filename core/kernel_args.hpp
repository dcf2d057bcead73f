// From tensors to the raw pointers the kernels of core/kernels take. An optional tensor (an absent bias or
// gamma, a gradient no input asked for) is undefined, and reaches a kernel as nullptr, which the kernels
// read as "none". Internal plumbing for the ops and layers that call kernels directly.
#pragma once
#include "xgrad/core/tensor.hpp"

namespace xgrad {

inline float* data_or_null(Tensor& t) { return t.defined() ? t.data() : nullptr; }
inline const float* data_or_null(const Tensor& t) { return t.defined() ? t.data() : nullptr; }

// The buffer a backward fills with the gradient of `input`, or an undefined tensor if it requires none.
inline Tensor grad_buffer(const Tensor& input) { return input.requires_grad() ? empty(input.shape()) : Tensor(); }

}  // namespace xgrad
