// Shapes and axes: the small vocabulary every op uses to validate and describe its inputs.
// Not a tensor: just sizes, axis normalization and NumPy broadcasting rules.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "xgrad/core/small_vector.hpp"

namespace xgrad {

// Sizes per axis. Kept inline up to rank 6 (every tensor of a training step): building a shape, as every op
// does for its output, then allocates nothing. It converts to and from std::vector<std::size_t>.
using Shape = SmallVector<std::size_t, 6>;
// Axis numbers (normalized, sorted) and per-axis strides: as short as a shape, and inline like one.
using Axes = SmallVector<std::size_t, 6>;
using Strides = SmallVector<std::size_t, 6>;

std::size_t numel(const Shape& shape);

// "(2, 3, 4)", used in every error message.
std::string shape_str(const Shape& shape);

// Maps a possibly negative axis into [0, rank); throws naming `op` if out of range.
std::size_t normalize_axis(int axis, std::size_t rank, const char* op);

// Normalizes, sorts and de-duplicates axes; an empty list means every axis.
Axes normalize_axes(const std::vector<int>& axes, std::size_t rank, const char* op);

// NumPy broadcasting: align trailing axes, sizes must match or be 1. Throws naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Row-major strides of a contiguous tensor of this shape.
Strides contiguous_strides(const Shape& shape);

}  // namespace xgrad
