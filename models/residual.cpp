// Residual: see residual.hpp.
#include "xgrad/models/residual.hpp"

#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/elementwise.hpp"

namespace xgrad {

Residual::Residual(std::shared_ptr<Sequential> body) : body_(std::move(body)) {
  XGRAD_CHECK(body_ != nullptr, "Residual: the body is null");
  register_module("body", body_);
}

Tensor Residual::forward(const Tensor& x) {
  Tensor y = (*body_)(x);
  XGRAD_CHECK(y.shape() == x.shape(), "Residual: the body maps ", shape_str(x.shape()), " to ",
              shape_str(y.shape()), "; the skip connection needs the input's shape");
  return x + y;
}

std::shared_ptr<Module> Residual::clone() const {
  return clone_into(std::make_shared<Residual>(clone_module(*body_)));
}

std::string Residual::describe() const { return "Residual(" + body_->describe() + ")"; }

}  // namespace xgrad
