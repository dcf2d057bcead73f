// Regression losses composed from primitive ops (autograd differentiates them): l1, smooth L1, Huber.
// The fused mse_loss is in loss.cpp.
#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/elementwise.hpp"
#include "xgrad/core/ops/comparison.hpp"
#include "xgrad/core/ops/indexing.hpp"
#include "xgrad/core/ops/loss.hpp"
#include "xgrad/core/ops/loss_reduce.hpp"

namespace xgrad {
namespace {

// d = |a - b|, after the checks every pointwise regression loss shares.
Tensor abs_diff(const Tensor& a, const Tensor& b, const char* op) {
  XGRAD_CHECK(a.defined() && b.defined(), op, ": an operand is undefined");
  XGRAD_CHECK(a.shape() == b.shape(), op, ": shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
              " must be equal");
  return abs(a - b);
}

}  // namespace

Tensor l1_loss(const Tensor& a, const Tensor& b, Reduction reduction) {
  return detail::reduce_loss(abs_diff(a, b, "l1_loss"), reduction);
}

Tensor smooth_l1_loss(const Tensor& a, const Tensor& b, Reduction reduction, float beta) {
  XGRAD_CHECK(beta >= 0.0f, "smooth_l1_loss: beta ", beta, " must be >= 0");
  const Tensor d = abs_diff(a, b, "smooth_l1_loss");
  if (beta == 0.0f) return detail::reduce_loss(d, reduction);  // torch: beta 0 is exactly l1_loss
  // d < beta ? 0.5 d^2 / beta : d - 0.5 beta
  const Tensor loss = where(lt(d.detach(), beta), d * d * (0.5f / beta), d - 0.5f * beta);
  return detail::reduce_loss(loss, reduction);
}

Tensor huber_loss(const Tensor& a, const Tensor& b, Reduction reduction, float delta) {
  XGRAD_CHECK(delta > 0.0f, "huber_loss: delta ", delta, " must be > 0");
  const Tensor d = abs_diff(a, b, "huber_loss");
  // d < delta ? 0.5 d^2 : delta (d - 0.5 delta)
  const Tensor loss = where(lt(d.detach(), delta), d * d * 0.5f, (d - 0.5f * delta) * delta);
  return detail::reduce_loss(loss, reduction);
}

}  // namespace xgrad
