// BatchNorm1d/2d/3d: options, parameters and buffers around the functional op batch_norm
// (core/ops/batch_norm), which holds the graph op, its backward and the running-statistics update.
#include "xgrad/layers/batch_norm.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "xgrad/core/error.hpp"

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
  XGRAD_CHECK(!options.fused_max_pool || options.fused_relu, name_,
              ": fused_max_pool needs fused_relu (the pool is fused after the ReLU)");
  XGRAD_CHECK(!options.fused_max_pool || ranks_ == std::vector<std::size_t>{4}, name_,
              ": fused_max_pool pools (N, C, H, W) input: only BatchNorm2d takes it");
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
  if (options_.fused_relu) s << ", fused_relu=True";
  if (options_.fused_max_pool) s << ", fused_max_pool=True";
  s << ')';
  return s.str();
}

// What only the layer knows: its class's ranks and num_features. The op checks everything else.
void BatchNorm::check_layout(const Tensor& x) const {
  XGRAD_CHECK(x.defined(), name_, ": the input is undefined");
  const Shape& s = x.shape();
  const bool rank_ok = std::find(ranks_.begin(), ranks_.end(), s.size()) != ranks_.end();
  XGRAD_CHECK(rank_ok && s[1] == static_cast<std::size_t>(options_.num_features), name_, ": expected input of shape ",
              layout_, " with C = ", options_.num_features, ", got ", shape_str(s));
}

Tensor BatchNorm::forward(const Tensor& x) {
  check_layout(x);
  // Batch statistics in training, and in eval() when no running estimates are kept (as PyTorch).
  const bool batch_statistics = is_training() || !options_.track_running_stats;
  const BatchNormExtras extras{.convention = options_.convention,
                               .unbiased_running_var = options_.unbiased_running_var,
                               .relu = options_.fused_relu};
  // The running estimates are undefined without track_running_stats, so the op updates nothing then.
  Tensor y = call_op([&] {
    if (options_.fused_max_pool) {
      return batch_norm_relu_max_pool2d(x, running_mean_, running_var_, weight_, bias_, batch_statistics,
                                        options_.momentum, options_.eps, extras);
    }
    return batch_norm(x, running_mean_, running_var_, weight_, bias_, batch_statistics, options_.momentum,
                      options_.eps, extras);
  });
  if (is_training() && options_.track_running_stats) num_batches_tracked_.data()[0] += 1.0f;
  return y;
}

}  // namespace xgrad
