// Dense: see dense.hpp.
#include "xgrad/layers/dense.hpp"

#include <sstream>

#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/matmul.hpp"
#include "xgrad/core/ops/shape_ops.hpp"
#include "xgrad/layers/init.hpp"

namespace xgrad {

Dense::Dense(const DenseOptions& options, Generator& gen) : options_(options) {
  XGRAD_CHECK(options.in_features > 0 && options.out_features > 0, "Dense: in_features ", options.in_features,
              " and out_features ", options.out_features, " must be positive");
  const auto in = static_cast<std::size_t>(options.in_features);
  const auto out = static_cast<std::size_t>(options.out_features);
  weight_ = register_parameter("weight", empty({out, in}));
  if (options.bias) bias_ = register_parameter("bias", empty({out}));
  default_layer_init_(weight_, bias_, gen);
}

Tensor Dense::forward(const Tensor& x) {
  const auto in = static_cast<std::size_t>(options_.in_features);
  XGRAD_CHECK(x.defined(), describe(), ": the input is undefined");
  XGRAD_CHECK(x.dim() >= 1 && x.shape().back() == in, describe(), ": expected input (*, ", in,
              ") with ", in, " features on the last axis, got ", shape_str(x.shape()));
  if (x.dim() == 2) return linear(x, weight_, bias_);
  // (*, in) -> (M, in) -> (M, out) -> (*, out), as torch.nn.Linear accepts any leading axes.
  Shape out_shape = x.shape();
  out_shape.back() = static_cast<std::size_t>(options_.out_features);
  return reshape(linear(reshape(x, {x.numel() / in, in}), weight_, bias_), out_shape);
}

// The fresh layer's random initial values are overwritten by clone_into.
std::shared_ptr<Module> Dense::clone() const {
  Generator unused;
  return clone_into(std::make_shared<Dense>(options_, unused));
}

std::string Dense::describe() const {
  std::ostringstream out;
  out << "Dense(in_features=" << options_.in_features << ", out_features=" << options_.out_features
      << ", bias=" << (options_.bias ? "true" : "false") << ")";
  return out.str();
}

}  // namespace xgrad
