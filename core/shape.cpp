// Shape helpers: see shape.hpp.
#include "xgrad/core/shape.hpp"

#include <algorithm>
#include <cstdint>
#include <sstream>

#include "xgrad/core/error.hpp"

namespace xgrad {

// The product is checked: (2^32, 2^32, 2) would wrap to 0 and make an "empty" tensor that later accesses
// read past. An empty axis anywhere gives 0 whatever the others are, as in NumPy.
std::size_t numel(const Shape& shape) {
  std::size_t n = 1;
  bool overflow = false;
  for (std::size_t s : shape) {
    if (s == 0) return 0;
    overflow = overflow || n > SIZE_MAX / s;
    n *= s;
  }
  XGRAD_CHECK(!overflow, "numel: the shape ", shape_str(shape), " has more elements than memory can address");
  return n;
}

std::string shape_str(const Shape& shape) {
  std::ostringstream out;
  out << '(';
  for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << ')';
  return out.str();
}

std::size_t normalize_axis(int axis, std::size_t rank, const char* op) {
  const int r = static_cast<int>(rank);
  XGRAD_CHECK(axis >= -r && axis < r, op, ": axis ", axis, " is out of range for a tensor of rank ", rank);
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

Axes normalize_axes(const std::vector<int>& axes, std::size_t rank, const char* op) {
  Axes out;
  if (axes.empty()) {
    for (std::size_t i = 0; i < rank; ++i) out.push_back(i);
    return out;
  }
  for (int a : axes) out.push_back(normalize_axis(a, rank, op));
  std::sort(out.begin(), out.end());
  XGRAD_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), op, ": an axis is repeated");
  return out;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    const std::size_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const std::size_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    XGRAD_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
                " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Strides contiguous_strides(const Shape& shape) {
  Strides strides(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

}  // namespace xgrad
