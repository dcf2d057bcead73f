// layer_norm: argument checks, then group_norm's graph op with G = 1 over (rows, D), D =
// numel(normalized_shape); its fused backward is that op's.
#include "xgrad/core/ops/layer_norm.hpp"

#include <algorithm>

#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/group_norm.hpp"

namespace xgrad {

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  float eps) {
  XGRAD_CHECK(!normalized_shape.empty(), "layer_norm: normalized_shape is empty");
  XGRAD_CHECK(eps >= 0.0f, "layer_norm: eps must be >= 0, got ", eps);
  XGRAD_CHECK(x.defined(), "layer_norm: the input is undefined");
  const Shape& s = x.shape();
  const std::size_t k = normalized_shape.size();
  const bool ends_with = s.size() >= k && Shape(s.end() - k, s.end()) == normalized_shape;
  XGRAD_CHECK(ends_with, "layer_norm: expected input of shape (*, ", shape_str(normalized_shape).substr(1), ", got ",
              shape_str(s));
  for (const Tensor* p : {&weight, &bias}) {
    XGRAD_CHECK(!p->defined() || p->shape() == normalized_shape, "layer_norm: ", p == &weight ? "weight" : "bias",
                " of shape ", shape_str(p->shape()), " does not match normalized_shape ",
                shape_str(normalized_shape));
  }
  const std::size_t D = numel(normalized_shape);
  return detail::group_norm_op(x, numel(s) / std::max<std::size_t>(D, 1), D, 1, 1, weight, bias, eps, "layer_norm");
}

}  // namespace xgrad
