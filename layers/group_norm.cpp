// GroupNorm: options and parameters around the functional op group_norm (core/ops/group_norm).
#include "xgrad/layers/group_norm.hpp"

#include <cmath>
#include <sstream>

#include "xgrad/core/error.hpp"

namespace xgrad {

GroupNorm::GroupNorm(const GroupNormOptions& options) : options_(options) {
  XGRAD_CHECK(options.num_groups > 0 && options.num_channels > 0 && options.num_channels % options.num_groups == 0,
              "GroupNorm: num_channels ", options.num_channels, " must be a positive multiple of num_groups ",
              options.num_groups);
  XGRAD_CHECK(options.eps >= 0.0f && std::isfinite(options.eps), "GroupNorm: eps must be finite and >= 0, got ",
              options.eps);
  if (options.affine) {
    const Shape c{static_cast<std::size_t>(options.num_channels)};
    weight_ = register_parameter("weight", ones(c));
    bias_ = register_parameter("bias", zeros(c));
  }
}

Tensor GroupNorm::forward(const Tensor& x) {
  // What only the layer knows, C = num_channels (without affine the op has no weight to compare with).
  XGRAD_CHECK(x.defined() && x.dim() >= 2 && x.shape()[1] == static_cast<std::size_t>(options_.num_channels),
              describe(), ": expected input of shape (N, C, *) with C = ", options_.num_channels, ", got ",
              x.defined() ? shape_str(x.shape()) : "undefined");
  return call_op([&] { return group_norm(x, options_.num_groups, weight_, bias_, options_.eps); });
}

std::string GroupNorm::describe() const {
  std::ostringstream s;
  s << "GroupNorm(" << options_.num_groups << ", " << options_.num_channels << ", eps=" << options_.eps
    << ", affine=" << (options_.affine ? "True" : "False") << ')';
  return s.str();
}

}  // namespace xgrad
