// Ops that move or select values without arithmetic: reshape, flatten, transpose/permute, concat, slice.
#pragma once
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

// Same values, new shape of the same element count; shares storage with x (a view, like torch's).
// One size may be -1 (inferred from the others), as torch.reshape: reshape(x, {-1, 4}). A list of signed
// ints takes the -1 form; a Shape (size_t) is taken as is, except that size_t(-1), a wrapped -1, is -1.
Tensor reshape(const Tensor& x, const Shape& shape);
// The -1 form under its own name, for sizes held in a container (not an overload of reshape: a span
// would make reshape(x, {}) ambiguous).
Tensor reshape_sizes(const Tensor& x, std::span<const std::int64_t> sizes);
template <std::signed_integral I>
Tensor reshape(const Tensor& x, std::initializer_list<I> shape) {
  const std::vector<std::int64_t> sizes(shape.begin(), shape.end());
  return reshape_sizes(x, sizes);
}
// torch.squeeze: without dim, drops every axis of size 1; with dim, drops that axis if its size is 1.
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, int dim);
// torch.unsqueeze: inserts an axis of size 1 at dim, in [-rank - 1, rank].
Tensor unsqueeze(const Tensor& x, int dim);
// torch.stack: joins tensors of one shape along a new axis dim, in [-rank - 1, rank].
Tensor stack(const std::vector<Tensor>& xs, int dim = 0);
// Merges axes start_dim..end_dim into one (torch.flatten; default start_dim 0).
Tensor flatten(const Tensor& x, int start_dim = 0, int end_dim = -1);
Tensor transpose(const Tensor& x, int dim0, int dim1);
Tensor permute(const Tensor& x, const std::vector<int>& dims);
// Joins tensors whose shapes agree except along `axis` (torch.cat).
Tensor concat(const std::vector<Tensor>& xs, int axis);
// Elements [start, end) along `axis` with `step` (Python slicing; negative start/end count from the end).
Tensor slice(const Tensor& x, int axis, std::int64_t start, std::int64_t end, std::int64_t step = 1);

}  // namespace xgrad
