// BatchNorm1d/2d/3d: one implementation over x viewed as (N, C, HW). Training is one graph op whose
// backward is the fused analytic kernel; eval() is another op with the statistics held constant. Either
// can take the ReLU after it into the same op (forward_relu).
// The running-statistics update is bookkeeping outside the graph.
#include "xgrad/layers/batch_norm.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/kernel_args.hpp"
#include "xgrad/core/kernels/batch_norm.hpp"

namespace xgrad {

BatchNormOptions BatchNormOptions::keras(int c) {
  BatchNormOptions o(c);
  o.eps = 1e-3f;
  o.momentum = 0.99f;
  o.convention = MomentumConvention::Keras;
  o.unbiased_running_var = false;
  return o;
}

BatchNorm::BatchNorm(const char* name, const char* layout, std::vector<std::size_t> ranks,
                     const BatchNormOptions& options)
    : name_(name), layout_(layout), ranks_(std::move(ranks)), options_(options) {
  XGRAD_CHECK(options.num_features > 0, name_, ": num_features must be positive, got ", options.num_features);
  XGRAD_CHECK(options.eps >= 0.0f && std::isfinite(options.eps), name_, ": eps must be finite and >= 0, got ",
              options.eps);
  XGRAD_CHECK(options.momentum >= 0.0f && options.momentum <= 1.0f, name_, ": momentum must be in [0, 1], got ",
              options.momentum);
  const Shape c{static_cast<std::size_t>(options.num_features)};
  if (options.affine) {
    weight_ = register_parameter("weight", ones(c));
    bias_ = register_parameter("bias", zeros(c));
  }
  if (options.track_running_stats) {
    running_mean_ = register_buffer("running_mean", zeros(c));
    running_var_ = register_buffer("running_var", ones(c));
    num_batches_tracked_ = register_buffer("num_batches_tracked", zeros({}));
  }
}

std::string BatchNorm::describe() const {
  std::ostringstream s;
  s << name_ << '(' << options_.num_features << ", eps=" << options_.eps << ", momentum=" << options_.momentum;
  if (!options_.affine) s << ", affine=False";
  if (!options_.track_running_stats) s << ", track_running_stats=False";
  if (options_.convention == MomentumConvention::Keras) s << ", momentum_convention=keras";
  if (!options_.unbiased_running_var) s << ", unbiased_running_var=False";
  s << ')';
  return s.str();
}

void BatchNorm::check_input(const Tensor& x) const {
  XGRAD_CHECK(x.defined(), name_, ": the input is undefined");
  const Shape& s = x.shape();
  const bool rank_ok = std::find(ranks_.begin(), ranks_.end(), s.size()) != ranks_.end();
  XGRAD_CHECK(rank_ok && s[1] == static_cast<std::size_t>(options_.num_features), name_, ": expected input of shape ",
              layout_, " with C = ", options_.num_features, ", got ", shape_str(s));
}

void BatchNorm::update_running_stats(const Tensor& batch_mean, const Tensor& batch_var, std::size_t count) {
  // PyTorch: running = (1 - momentum) running + momentum batch; Keras: moving = momentum moving +
  // (1 - momentum) batch. w is the batch's weight either way. Computed in double, rounded once.
  const double m = options_.momentum;
  const double w = options_.convention == MomentumConvention::PyTorch ? m : 1.0 - m;
  // Unbiased: var * M / (M - 1); the caller guarantees M > 1.
  const double correction = options_.unbiased_running_var ? double(count) / double(count - 1) : 1.0;
  float* rm = running_mean_.data();
  float* rv = running_var_.data();
  for (std::size_t c = 0; c < batch_mean.numel(); ++c) {
    rm[c] = static_cast<float>((1.0 - w) * rm[c] + w * batch_mean.data()[c]);
    rv[c] = static_cast<float>((1.0 - w) * rv[c] + w * (batch_var.data()[c] * correction));
  }
  num_batches_tracked_.data()[0] += 1.0f;
}

Tensor BatchNorm::forward(const Tensor& x) { return normalize(x, false); }

Tensor BatchNorm::forward_relu(const Tensor& x) { return normalize(x, true); }

Tensor BatchNorm::normalize(const Tensor& x, bool relu) {
  check_input(x);
  const Shape& s = x.shape();
  const std::size_t N = s[0], C = s[1];
  const std::size_t HW = numel(Shape(s.begin() + 2, s.end()));  // 1 for (N, C)
  Tensor out = empty(s);

  if (is_training() || !options_.track_running_stats) {
    // Batch statistics (PyTorch also uses them in eval() when no running estimates are kept).
    XGRAD_CHECK(N * HW > 1, name_, ": expected more than 1 value per channel when training, got input size ",
                shape_str(s));
    Tensor mean = empty({C}), var = empty({C}), rstd = empty({C});
    kernels::batch_norm_forward(out.data(), mean.data(), var.data(), rstd.data(), x.data(), data_or_null(weight_),
                                data_or_null(bias_), N, C, HW, options_.eps, relu);
    if (is_training() && options_.track_running_stats) update_running_stats(mean, var, N * HW);
    // The fused backward: see kernels::batch_norm_backward for the formula. With the ReLU it reads the
    // output (detached: the closure must not own the node that owns it) for the ReLU's mask.
    return record(out, relu ? "batch_norm_relu" : "batch_norm", {x, weight_, bias_},
                  [x, mean, rstd, weight = weight_, bias = bias_, y = relu ? out.detach() : Tensor(), N, C,
                   HW](const Tensor& g) {
                    Tensor dx = grad_buffer(x), dgamma = grad_buffer(weight), dbeta = grad_buffer(bias);
                    kernels::batch_norm_backward(data_or_null(dx), data_or_null(dgamma), data_or_null(dbeta),
                                                 g.data(), x.data(), mean.data(), rstd.data(), data_or_null(weight),
                                                 N, C, HW, data_or_null(y));
                    return std::vector<Tensor>{dx, dgamma, dbeta};
                  });
  }

  // eval(): the running estimates, copied so that a later training step cannot change this graph.
  Tensor mean = running_mean_.clone(), rstd = empty({C});
  for (std::size_t c = 0; c < C; ++c) {
    rstd.data()[c] = static_cast<float>(1.0 / std::sqrt(double(running_var_.data()[c]) + double(options_.eps)));
  }
  kernels::batch_norm_inference(out.data(), x.data(), mean.data(), rstd.data(), data_or_null(weight_),
                                data_or_null(bias_), N, C, HW, relu);
  // dx = gamma rstd dy; the statistics are constants.
  return record(out, relu ? "batch_norm_inference_relu" : "batch_norm_inference", {x, weight_, bias_},
                [x, mean, rstd, weight = weight_, bias = bias_, y = relu ? out.detach() : Tensor(), N, C,
                 HW](const Tensor& g) {
                  Tensor dx = grad_buffer(x), dgamma = grad_buffer(weight), dbeta = grad_buffer(bias);
                  kernels::batch_norm_inference_backward(data_or_null(dx), data_or_null(dgamma), data_or_null(dbeta),
                                                         g.data(), x.data(), mean.data(), rstd.data(),
                                                         data_or_null(weight), N, C, HW, data_or_null(y));
                  return std::vector<Tensor>{dx, dgamma, dbeta};
                });
}

}  // namespace xgrad
