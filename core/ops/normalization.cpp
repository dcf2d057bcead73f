// The TensorFlow functional normalization forms, composed from reduce and elementwise ops: autograd
// differentiates them through those ops, and they serve as the reference the fused BatchNorm kernels are
// tested against. No kernel of their own.
#include "xgrad/core/ops/normalization.hpp"

#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/elementwise.hpp"
#include "xgrad/core/ops/reduce.hpp"

namespace xgrad {
namespace {

// A statistic or parameter must broadcast to x's shape without enlarging it.
void check_broadcasts_to(const Tensor& p, const char* what, const Shape& x_shape, const char* op) {
  XGRAD_CHECK(p.defined(), op, ": ", what, " is undefined");
  const Shape& s = p.shape();
  bool ok = s.size() <= x_shape.size();
  for (std::size_t i = 0; ok && i < s.size(); ++i) {
    const std::size_t xs = x_shape[x_shape.size() - s.size() + i];
    ok = s[i] == xs || s[i] == 1;
  }
  XGRAD_CHECK(ok, op, ": ", what, " of shape ", shape_str(s), " does not broadcast to x of shape ",
              shape_str(x_shape));
}

}  // namespace

Moments moments(const Tensor& x, const std::vector<int>& axes, bool keep_dims) {
  XGRAD_CHECK(x.defined(), "moments: the input is undefined");
  // An empty list means "every axis" to sum/mean but "no axis" to tf.nn.moments: refuse the ambiguity.
  XGRAD_CHECK(!axes.empty(), "moments: no axes given for x of shape ", shape_str(x.shape()),
              "; name the axes to reduce, e.g. {0} or {0, 1, 2}");
  normalize_axes(axes, x.dim(), "moments");  // throws naming the bad axis and the rank
  Tensor mean_kept = mean(x, axes, true);
  // Like tf.nn.moments, the variance sees the mean as a constant: d var / d mean = -2 mean(x - mean) = 0,
  // so the gradient is unchanged and the graph is smaller.
  Tensor centered = x - mean_kept.detach();
  Moments m;
  m.variance = mean(centered * centered, axes, keep_dims);
  m.mean = keep_dims ? mean_kept : mean(x, axes, false);
  return m;
}

Tensor batch_normalization(const Tensor& x, const Tensor& mean, const Tensor& variance, const Tensor& offset,
                           const Tensor& scale, float epsilon) {
  const char* op = "batch_normalization";
  XGRAD_CHECK(x.defined(), op, ": x is undefined");
  XGRAD_CHECK(epsilon >= 0.0f, op, ": variance_epsilon must be >= 0, got ", epsilon);
  check_broadcasts_to(mean, "mean", x.shape(), op);
  check_broadcasts_to(variance, "variance", x.shape(), op);
  if (offset.defined()) check_broadcasts_to(offset, "offset", x.shape(), op);
  if (scale.defined()) check_broadcasts_to(scale, "scale", x.shape(), op);
  // inv = scale / sqrt(variance + epsilon) on the small statistics, then one pass of x - mean, one of
  // the product (and one for the offset): subtracting first keeps values near the mean exact.
  Tensor stddev = sqrt(variance + epsilon);
  Tensor inv = scale.defined() ? scale / stddev : 1.0f / stddev;
  Tensor y = (x - mean) * inv;
  return offset.defined() ? y + offset : y;
}

Tensor batch_norm_with_global_normalization(const Tensor& t, const Tensor& m, const Tensor& v,
                                            const Tensor& beta, const Tensor& gamma, float epsilon,
                                            bool scale_after_normalization) {
  const char* op = "batch_norm_with_global_normalization";
  XGRAD_CHECK(t.defined() && t.dim() >= 1, op, ": t must have at least one axis (channels last), got ",
              t.defined() ? shape_str(t.shape()) : "undefined");
  const Shape channels{t.shape().back()};
  auto check = [&](const Tensor& p, const char* what) {
    XGRAD_CHECK(p.defined() && p.shape() == channels, op, ": ", what, " must have shape ", shape_str(channels),
                " (the last axis of t of shape ", shape_str(t.shape()), "), got ",
                p.defined() ? shape_str(p.shape()) : "undefined");
  };
  check(m, "m");
  check(v, "v");
  check(beta, "beta");
  if (scale_after_normalization) check(gamma, "gamma");
  return batch_normalization(t, m, v, beta, scale_after_normalization ? gamma : Tensor(), epsilon);
}

}  // namespace xgrad
