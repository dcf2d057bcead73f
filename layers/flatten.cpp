// Flatten layer: see flatten.hpp.
#include "xgrad/layers/flatten.hpp"

#include <sstream>

#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/shape_ops.hpp"

namespace xgrad {

Tensor Flatten::forward(const Tensor& x) {
  XGRAD_CHECK(x.defined(), describe(), ": the input is undefined");
  // Checked here so the message names the layer and the input (the op would say "flatten").
  const int rank = static_cast<int>(x.dim());
  auto in_range = [rank](int axis) { return axis >= -rank && axis < rank; };
  XGRAD_CHECK(in_range(start_dim_) && in_range(end_dim_), describe(), ": expected an input of rank > ",
              std::max(start_dim_ < 0 ? -start_dim_ - 1 : start_dim_, end_dim_ < 0 ? -end_dim_ - 1 : end_dim_),
              ", got ", shape_str(x.shape()));
  const int start = start_dim_ < 0 ? start_dim_ + rank : start_dim_;
  const int end = end_dim_ < 0 ? end_dim_ + rank : end_dim_;
  XGRAD_CHECK(start <= end, describe(), ": start_dim comes after end_dim for input of shape ",
              shape_str(x.shape()));
  return flatten(x, start_dim_, end_dim_);
}

std::string Flatten::describe() const {
  std::ostringstream out;
  out << "Flatten(start_dim=" << start_dim_ << ", end_dim=" << end_dim_ << ")";
  return out.str();
}

}  // namespace xgrad
