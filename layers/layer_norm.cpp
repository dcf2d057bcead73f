// LayerNorm: x viewed as (rows, D) with D = numel(normalized_shape) is group norm with one group and
// D channels of one value each, so it reuses that graph op and its fused backward.
#include "xgrad/layers/layer_norm.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "xgrad/core/error.hpp"
#include "xgrad/layers/group_norm.hpp"

namespace xgrad {
namespace {

// x's trailing axes equal normalized_shape.
bool ends_with(const Shape& s, const Shape& normalized_shape) {
  const std::size_t k = normalized_shape.size();
  return s.size() >= k && Shape(s.end() - k, s.end()) == normalized_shape;
}

// PyTorch prints the shape as a Python tuple: "(10,)" or "(4, 5)".
std::string tuple_str(const Shape& shape) {
  return shape.size() == 1 ? "(" + std::to_string(shape[0]) + ",)" : shape_str(shape);
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  float eps) {
  XGRAD_CHECK(!normalized_shape.empty(), "layer_norm: normalized_shape is empty");
  XGRAD_CHECK(eps >= 0.0f, "layer_norm: eps must be >= 0, got ", eps);
  XGRAD_CHECK(x.defined(), "layer_norm: the input is undefined");
  const Shape& s = x.shape();
  XGRAD_CHECK(ends_with(s, normalized_shape), "layer_norm: expected input of shape (*, ",
              shape_str(normalized_shape).substr(1), ", got ", shape_str(s));
  for (const Tensor* p : {&weight, &bias}) {
    XGRAD_CHECK(!p->defined() || p->shape() == normalized_shape, "layer_norm: ", p == &weight ? "weight" : "bias",
                " of shape ", shape_str(p->shape()), " does not match normalized_shape ",
                shape_str(normalized_shape));
  }
  const std::size_t D = numel(normalized_shape);
  return detail::group_norm_op(x, numel(s) / std::max<std::size_t>(D, 1), D, 1, 1, weight, bias, eps, "layer_norm");
}

LayerNorm::LayerNorm(const LayerNormOptions& options) : options_(options) {
  XGRAD_CHECK(!options.normalized_shape.empty() && numel(options.normalized_shape) > 0,
              "LayerNorm: normalized_shape must be non-empty with no zero size, got ",
              shape_str(options.normalized_shape));
  XGRAD_CHECK(options.eps >= 0.0f && std::isfinite(options.eps), "LayerNorm: eps must be finite and >= 0, got ",
              options.eps);
  if (options.elementwise_affine) {
    weight_ = register_parameter("weight", ones(options.normalized_shape));
    bias_ = register_parameter("bias", zeros(options.normalized_shape));
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  XGRAD_CHECK(x.defined() && ends_with(x.shape(), options_.normalized_shape), describe(),
              ": expected input of shape (*, ", shape_str(options_.normalized_shape).substr(1), ", got ",
              x.defined() ? shape_str(x.shape()) : "undefined");
  return layer_norm(x, options_.normalized_shape, weight_, bias_, options_.eps);
}

std::string LayerNorm::describe() const {
  std::ostringstream s;
  s << "LayerNorm(" << tuple_str(options_.normalized_shape) << ", eps=" << options_.eps
    << ", elementwise_affine=" << (options_.elementwise_affine ? "True" : "False") << ')';
  return s.str();
}

}  // namespace xgrad
