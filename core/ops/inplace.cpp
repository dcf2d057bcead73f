// Tensor's in-place methods (add_, mul_, copy_, +=, ...). Each is its out-of-place op applied to the
// tensor's current value, written back into the tensor's storage. Under grad mode the tensor's history
// is rebased as PyTorch does: the old value (a copy carrying the old grad_fn) becomes the op's input, and
// the tensor gets the op's grad_fn. The write bumps the storage's version, so an earlier op that saved
// this tensor for its backward throws at backward(); an op that saved nothing does not care. A leaf that
// requires grad refuses, as in PyTorch (wrap such updates, an optimizer's, in NoGradGuard).
#include <algorithm>
#include <functional>
#include <utility>

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
    // A reshape view of this tensor (or the tensor this one views) would see the new values with its old
    // history: a wrong gradient. PyTorch regenerates views' histories; xgrad refuses instead. A detach()
    // sees the values too, as in PyTorch, but has no history to get wrong.
    XGRAD_CHECK(self.impl()->storage->attached.load(std::memory_order_relaxed) <= 1, op, ": the tensor of shape ",
                shape_str(self.shape()), " is in the autograd graph and shares its storage with a live view "
                "(reshape, flatten, squeeze, ...) or the tensor it views: use the out-of-place op (x = x * y)");
  }
  Tensor old = self;
  if (graph) {
    // The old value keeps the old history, on its own storage: the op may save it for its backward, and
    // it must not change when self does.
    old = self.clone();
    old.impl()->requires_grad = self.requires_grad();
    old.impl()->grad_fn = self.impl()->grad_fn;
    // Ops recorded earlier with self as input reach the old grad_fn through their edges; its gradient
    // now accumulates in `old`.
    if (old.impl()->grad_fn) old.impl()->grad_fn->output = old.impl_ptr();
  }
  const Tensor result = f(old);
  XGRAD_CHECK(result.shape() == self.shape(), op, ": the result has shape ", shape_str(result.shape()),
              ", not the tensor's ", shape_str(self.shape()), " (an in-place op cannot broadcast the tensor "
              "itself)");
  // Reading result through the const data(): result may be saved by its own op (a unary op's output),
  // and only the write to self counts as a modification. self.data() bumps self's version.
  std::copy_n(result.data(), result.numel(), self.data());
  if (graph && result.requires_grad()) {
    self.impl()->grad_fn = result.impl()->grad_fn;
    self.impl()->grad_fn->output = self.impl_ptr();
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
