// LayerNorm: options and parameters around the functional op layer_norm (core/ops/layer_norm), which
// checks the input.
#include "xgrad/layers/layer_norm.hpp"

#include <cmath>
#include <sstream>

#include "xgrad/core/error.hpp"

namespace xgrad {
namespace {

// PyTorch prints the shape as a Python tuple: "(10,)" or "(4, 5)".
std::string tuple_str(const Shape& shape) {
  if (shape.size() != 1) return shape_str(shape);
  // Appended in place: GCC 12 sees a false -Wrestrict in "(" + std::string, depending on the unity batch.
  std::string s = "(";
  s += std::to_string(shape[0]);
  s += ",)";
  return s;
}

}  // namespace

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
  return call_op([&] { return layer_norm(x, options_.normalized_shape, weight_, bias_, options_.eps); });
}

std::string LayerNorm::describe() const {
  std::ostringstream s;
  s << "LayerNorm(" << tuple_str(options_.normalized_shape) << ", eps=" << options_.eps
    << ", elementwise_affine=" << (options_.elementwise_affine ? "True" : "False") << ')';
  return s.str();
}

}  // namespace xgrad
