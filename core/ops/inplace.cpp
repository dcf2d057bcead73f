// Tensor's in-place methods (add_, mul_, copy_, +=, ...). Each is its out-of-place op applied to the
// tensor's current value, written back into the tensor's storage (bumping its version, so a backward
// that needs the old values throws). Under grad mode the tensor takes the op into its history, as
// PyTorch rebases a non-leaf; a leaf that requires grad refuses, as in PyTorch (wrap such updates,
// an optimizer's, in NoGradGuard).
#include <algorithm>
#include <functional>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/elementwise.hpp"
#include "xgrad/core/ops/indexing.hpp"
#include "xgrad/core/tensor_impl.hpp"

namespace xgrad {
namespace {

// self = f(self) in place. `others` are the other operands, for the grad-mode decision.
Tensor& apply_inplace(Tensor& self, const char* op, std::initializer_list<Tensor> others,
                      const std::function<Tensor(const Tensor&)>& f) {
  XGRAD_CHECK(self.defined(), op, ": the tensor is undefined");
  const bool graph = grad_enabled() && (self.requires_grad() || needs_grad(others));
  if (graph) {
    XGRAD_CHECK(!(self.is_leaf() && self.requires_grad()), op, ": a leaf tensor that requires grad cannot be "
                "modified in place while grad mode is on (as in PyTorch); use a NoGradGuard for updates such "
                "as an optimizer's, or the out-of-place op");
    // A view (reshape) or a detached copy on the same storage would see the new values with its old
    // history: a wrong gradient. Refuse rather than guess.
    XGRAD_CHECK(self.impl()->storage.use_count() == 1, op, ": the tensor of shape ", shape_str(self.shape()),
                " is in the autograd graph and shares its storage (a view such as reshape, a detach(), or a "
                "tensor an op saved for backward): use the out-of-place op");
  }
  Tensor old = self;
  if (graph) {
    // The old value keeps the old history on its own storage (the op may save it for its backward);
    // self gets the new value and history.
    auto impl = std::make_shared<TensorImpl>();
    impl->shape = self.shape();
    impl->storage = self.clone().impl()->storage;
    impl->requires_grad = self.requires_grad();
    impl->grad_fn = self.impl()->grad_fn;
    old = Tensor(impl);
  }
  Tensor result = f(old);
  XGRAD_CHECK(result.shape() == self.shape(), op, ": the result has shape ", shape_str(result.shape()),
              ", not the tensor's ", shape_str(self.shape()), " (an in-place op cannot broadcast the tensor "
              "itself)");
  std::copy_n(result.data(), result.numel(), self.data());  // self.data() bumps the version
  if (graph && result.requires_grad()) {
    self.impl()->grad_fn = result.impl()->grad_fn;
    self.impl()->requires_grad = true;
  }
  return self;
}

}  // namespace

Tensor& Tensor::add_(const Tensor& other, float alpha) {
  return apply_inplace(*this, "add_", {other}, [&other, alpha](const Tensor& old) {
    return alpha == 1.0f ? add(old, other) : add(old, mul(other, alpha));
  });
}

Tensor& Tensor::add_(float value) {
  return apply_inplace(*this, "add_", {}, [value](const Tensor& old) { return add(old, value); });
}

Tensor& Tensor::sub_(const Tensor& other) {
  return apply_inplace(*this, "sub_", {other}, [&other](const Tensor& old) { return sub(old, other); });
}

Tensor& Tensor::sub_(float value) {
  return apply_inplace(*this, "sub_", {}, [value](const Tensor& old) { return old - value; });
}

Tensor& Tensor::mul_(const Tensor& other) {
  return apply_inplace(*this, "mul_", {other}, [&other](const Tensor& old) { return mul(old, other); });
}

Tensor& Tensor::mul_(float value) {
  return apply_inplace(*this, "mul_", {}, [value](const Tensor& old) { return mul(old, value); });
}

Tensor& Tensor::div_(const Tensor& other) {
  return apply_inplace(*this, "div_", {other}, [&other](const Tensor& old) { return div(old, other); });
}

Tensor& Tensor::div_(float value) {
  return apply_inplace(*this, "div_", {}, [value](const Tensor& old) { return old / value; });
}

// copy_ and fill_ select the new values with where(): the old value gets a zero gradient, and the result
// still requires grad when the old value did, as PyTorch's CopyBackwards.
Tensor& Tensor::copy_(const Tensor& src) {
  XGRAD_CHECK(src.defined(), "copy_: the source is undefined");
  return apply_inplace(*this, "copy_", {src}, [&src](const Tensor& old) { return where(ones({}), src, old); });
}

Tensor& Tensor::fill_(float value) {
  return apply_inplace(*this, "fill_", {}, [value](const Tensor& old) { return where(ones({}), value, old); });
}

Tensor& Tensor::zero_() { return fill_(0.0f); }

Tensor& Tensor::masked_fill_(const Tensor& mask, float value) {
  return apply_inplace(*this, "masked_fill_", {mask},
                       [&mask, value](const Tensor& old) { return xgrad::masked_fill(old, mask, value); });
}

}  // namespace xgrad
