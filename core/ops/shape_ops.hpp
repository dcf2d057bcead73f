// Ops that move or select values without arithmetic: reshape, flatten, transpose/permute, concat, slice.
#pragma once
#include <cstdint>
#include <vector>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

// Same values, new shape of the same element count; shares storage with x (a view, like torch's).
Tensor reshape(const Tensor& x, const Shape& shape);
// Merges axes start_dim..end_dim into one (torch.flatten; default start_dim 0).
Tensor flatten(const Tensor& x, int start_dim = 0, int end_dim = -1);
Tensor transpose(const Tensor& x, int dim0, int dim1);
Tensor permute(const Tensor& x, const std::vector<int>& dims);
// Joins tensors whose shapes agree except along `axis` (torch.cat).
Tensor concat(const std::vector<Tensor>& xs, int axis);
// Elements [start, end) along `axis` with `step` (Python slicing; negative start/end count from the end).
Tensor slice(const Tensor& x, int axis, std::int64_t start, std::int64_t end, std::int64_t step = 1);

}  // namespace xgrad
