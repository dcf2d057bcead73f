// Reductions over given axes (an empty list means every axis), with PyTorch's keepdim.
#pragma once
#include <vector>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

Tensor sum(const Tensor& x, const std::vector<int>& axes = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int>& axes = {}, bool keepdim = false);
// Variance over `axes`; unbiased divides by (n - 1) as torch.var does by default, else by n.
Tensor var(const Tensor& x, const std::vector<int>& axes = {}, bool unbiased = true, bool keepdim = false);
// Maximum over `axes`; the gradient flows to the first maximal element of each slice.
Tensor max(const Tensor& x, const std::vector<int>& axes = {}, bool keepdim = false);

}  // namespace xgrad
