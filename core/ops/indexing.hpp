// Selection by position or by mask, as torch's: argmax/argmin, max/min along a dim with their indices,
// index_select, gather, where and masked_fill. Index tensors are float32 holding integers (xgrad has one
// dtype; exact below 2^24): what argmax returns, gather and index_select take. Gradients flow to the
// selected elements (max/min values, gather, index_select, where, masked_fill); indices have none.
#pragma once
#include <concepts>
#include <vector>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

// The position of the largest (smallest) element: of the flattened tensor (a rank-0 result), or along
// dim. The first one wins ties; a NaN counts as the largest and the smallest, like torch.
Tensor argmax(const Tensor& x);
Tensor argmin(const Tensor& x);
Tensor argmax(const Tensor& x, int dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int dim, bool keepdim = false);

// torch.max(x, dim) / torch.min(x, dim): values and indices along one dim; the gradient of the values
// goes to the selected elements. (max(x, {axes}) in reduce.hpp is torch.amax: values only.)
ValuesIndices max_with_indices(const Tensor& x, int dim, bool keepdim = false);
ValuesIndices min_with_indices(const Tensor& x, int dim, bool keepdim = false);
template <std::integral I>
ValuesIndices max(const Tensor& x, I dim, bool keepdim = false) {
  return max_with_indices(x, static_cast<int>(dim), keepdim);
}
template <std::integral I>
ValuesIndices min(const Tensor& x, I dim, bool keepdim = false) {
  return min_with_indices(x, static_cast<int>(dim), keepdim);
}
// Minimum over `axes` (every axis when empty), torch.amin; the counterpart of max in reduce.hpp.
Tensor min(const Tensor& x, const std::vector<int>& axes = {}, bool keepdim = false);

// x's slices at positions `index` (rank 0 or 1) along dim: the result has index.numel() there.
Tensor index_select(const Tensor& x, int dim, const Tensor& index);
// out[..., j, ...] = x[..., index[..., j, ...], ...] along dim; index has x's rank, out has index's shape,
// and index.size(d) <= x.size(d) on the other axes (torch.gather).
Tensor gather(const Tensor& x, int dim, const Tensor& index);

// cond ? a : b elementwise, the three broadcast together; cond is nonzero for true. No gradient flows
// to the unselected side, so an inf or NaN there stays out of the gradient (unlike cond*a + (1-cond)*b).
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, float b);
Tensor where(const Tensor& cond, float a, const Tensor& b);
// x with `value` where mask is nonzero; mask broadcasts to x's shape (torch.masked_fill).
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);

}  // namespace xgrad
