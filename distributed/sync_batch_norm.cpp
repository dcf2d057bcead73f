// SyncBatchNorm and convert_sync_batchnorm: see sync_batch_norm.hpp.
#include "xgrad/distributed/sync_batch_norm.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/activation.hpp"
#include "xgrad/core/ops/conv_pool.hpp"
#include "xgrad/distributed/sync_batch_norm_op.hpp"

namespace xgrad::distributed {

SyncBatchNorm::SyncBatchNorm(const BatchNormOptions& options, Communicator comm)
    : options_(options), comm_(comm) {
  XGRAD_CHECK(options.num_features > 0, "SyncBatchNorm: num_features must be positive, got ", options.num_features);
  XGRAD_CHECK(options.eps >= 0.0f && std::isfinite(options.eps), "SyncBatchNorm: eps must be finite and >= 0, got ",
              options.eps);
  XGRAD_CHECK(options.momentum >= 0.0f && options.momentum <= 1.0f, "SyncBatchNorm: momentum must be in [0, 1], got ",
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

std::string SyncBatchNorm::describe() const {
  std::ostringstream s;
  s << "SyncBatchNorm(" << options_.num_features << ", eps=" << options_.eps << ", momentum=" << options_.momentum;
  if (!options_.affine) s << ", affine=False";
  if (!options_.track_running_stats) s << ", track_running_stats=False";
  if (options_.convention == MomentumConvention::Keras) s << ", momentum_convention=keras";
  if (!options_.unbiased_running_var) s << ", unbiased_running_var=False";
  if (options_.fused_relu) s << ", fused_relu=True";
  if (options_.fused_max_pool) s << ", fused_max_pool=True";
  s << ", ranks=" << comm_.size() << ')';
  return s.str();
}

Tensor SyncBatchNorm::forward(const Tensor& x) {
  Tensor y = normalize(x);
  if (options_.fused_max_pool) return max_pool2d(relu(y), 2);
  return options_.fused_relu ? relu(y) : y;
}

Tensor SyncBatchNorm::normalize(const Tensor& x) {
  XGRAD_CHECK(x.defined() && x.dim() >= 2 && x.dim() <= 5 &&
                  x.shape()[1] == static_cast<std::size_t>(options_.num_features),
              "SyncBatchNorm: expected input of shape (N, C, ...) of rank 2 to 5 with C = ", options_.num_features,
              ", got ", x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  if (is_training() || !options_.track_running_stats) {
    SyncBatchNormStats stats;
    Tensor y = sync_batch_norm(x, weight_, bias_, options_.eps, comm_, &stats);
    if (is_training() && options_.track_running_stats) {
      // The running update of BatchNorm (layers/batch_norm.cpp), from the global statistics: PyTorch's
      // w = momentum, Keras's w = 1 - momentum; unbiased variance with the global count. In double, rounded
      // once; the same bits on every rank since the statistics are.
      const double m = options_.momentum;
      const double w = options_.convention == MomentumConvention::PyTorch ? m : 1.0 - m;
      const double correction = options_.unbiased_running_var ? stats.count / (stats.count - 1) : 1.0;
      float* rm = running_mean_.data();
      float* rv = running_var_.data();
      for (std::size_t c = 0; c < stats.mean.numel(); ++c) {
        rm[c] = static_cast<float>((1.0 - w) * rm[c] + w * stats.mean.data()[c]);
        rv[c] = static_cast<float>((1.0 - w) * rv[c] + w * (stats.var.data()[c] * correction));
      }
      num_batches_tracked_.data()[0] += 1.0f;
    }
    return y;
  }

  // eval(): y = x * scale + shift per channel, scale = gamma / sqrt(running_var + eps), shift = beta -
  // running_mean * scale; dx = scale * dy, dgamma = sum dy * (x - mean) / sqrt(var + eps), dbeta = sum dy.
  const Shape& s = x.shape();
  const std::size_t N = s[0], C = s[1], HW = numel(Shape(s.begin() + 2, s.end()));
  Tensor rstd = empty({C}), mean = running_mean_.clone();
  for (std::size_t c = 0; c < C; ++c) {
    rstd.data()[c] = static_cast<float>(1.0 / std::sqrt(double(running_var_.data()[c]) + double(options_.eps)));
  }
  Tensor y = empty(s);
  for (std::size_t c = 0; c < C; ++c) {
    const float scale = rstd.data()[c] * (weight_.defined() ? weight_.data()[c] : 1.0f);
    const float shift = (bias_.defined() ? bias_.data()[c] : 0.0f) - mean.data()[c] * scale;
    for (std::size_t n = 0; n < N; ++n) {
      for (std::size_t i = 0; i < HW; ++i) y.data()[(n * C + c) * HW + i] = x.data()[(n * C + c) * HW + i] * scale + shift;
    }
  }
  return record(y, "sync_batch_norm_inference", {x, weight_, bias_},
                [x, mean, rstd, weight = weight_, bias = bias_, N, C, HW](const Tensor& dy) {
                  Tensor dx = x.requires_grad() ? empty(x.shape()) : Tensor();
                  Tensor dgamma = weight.defined() && weight.requires_grad() ? zeros({C}) : Tensor();
                  Tensor dbeta = bias.defined() && bias.requires_grad() ? zeros({C}) : Tensor();
                  for (std::size_t c = 0; c < C; ++c) {
                    const float r = rstd.data()[c];
                    const float k = r * (weight.defined() ? weight.data()[c] : 1.0f);
                    double sg = 0, sgx = 0;
                    for (std::size_t n = 0; n < N; ++n) {
                      for (std::size_t i = 0; i < HW; ++i) {
                        const std::size_t at = (n * C + c) * HW + i;
                        if (dx.defined()) dx.data()[at] = k * dy.data()[at];
                        sg += dy.data()[at];
                        sgx += double(dy.data()[at]) * ((x.data()[at] - mean.data()[c]) * r);
                      }
                    }
                    if (dbeta.defined()) dbeta.data()[c] = static_cast<float>(sg);
                    if (dgamma.defined()) dgamma.data()[c] = static_cast<float>(sgx);
                  }
                  return TensorList{dx, dgamma, dbeta};
                });
}

namespace {

// Copies every parameter and buffer of `from` into the same-named one of `to` (both are BatchNorm-shaped).
void copy_state(const Module& from, Module& to) {
  auto copy = [&from](const std::vector<NamedTensor>& src, std::vector<NamedTensor> dst) {
    XGRAD_CHECK(src.size() == dst.size(), "convert_sync_batchnorm: ", from.describe(), " has ", src.size(),
                " tensors of a kind, SyncBatchNorm ", dst.size());
    for (std::size_t i = 0; i < src.size(); ++i) {
      XGRAD_CHECK(src[i].first == dst[i].first && src[i].second.shape() == dst[i].second.shape(),
                  "convert_sync_batchnorm: ", from.describe(), "'s '", src[i].first, "' has no counterpart");
      std::copy_n(src[i].second.data(), src[i].second.numel(), dst[i].second.data());
    }
  };
  copy(from.named_parameters(), to.named_parameters());
  copy(from.named_buffers(), to.named_buffers());
}

}  // namespace

std::size_t convert_sync_batchnorm(Module& model, const Communicator& comm) {
  std::size_t replaced = 0;
  // Copy the list: replacing changes the children's pointers, not their names or order.
  const auto children = model.children();
  for (const auto& [name, child] : children) {
    if (const auto* bn = dynamic_cast<const BatchNorm*>(child.get())) {
      auto sync = std::make_shared<SyncBatchNorm>(bn->options(), comm);
      copy_state(*bn, *sync);
      model.replace_module(name, sync);
      sync->train(child->is_training());
      ++replaced;
    } else {
      replaced += convert_sync_batchnorm(*child, comm);
    }
  }
  return replaced;
}

}  // namespace xgrad::distributed
