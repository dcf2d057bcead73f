// Shapes and axes: the small vocabulary every op uses to validate and describe its inputs.
// Not a tensor: just sizes, axis normalization and NumPy broadcasting rules.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace xgrad {

using Shape = std::vector<std::size_t>;

std::size_t numel(const Shape& shape);

// "(2, 3, 4)", used in every error message.
std::string shape_str(const Shape& shape);

// Maps a possibly negative axis into [0, rank); throws naming `op` if out of range.
std::size_t normalize_axis(int axis, std::size_t rank, const char* op);

// Normalizes, sorts and de-duplicates axes; an empty list means every axis.
std::vector<std::size_t> normalize_axes(const std::vector<int>& axes, std::size_t rank, const char* op);

// NumPy broadcasting: align trailing axes, sizes must match or be 1. Throws naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Row-major strides of a contiguous tensor of this shape.
std::vector<std::size_t> contiguous_strides(const Shape& shape);

}  // namespace xgrad
