// batch_norm: argument checks, then one graph op whose backward is the fused analytic kernel
// (kernels::batch_norm_backward), or in inference the op with the statistics held constant. The
// running-statistics update is bookkeeping outside the graph.
#include "xgrad/core/ops/batch_norm.hpp"

#include <cmath>
#include <cstdint>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include <xtensor/xstorage.hpp>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/kernel_args.hpp"
#include "xgrad/core/kernels/batch_norm.hpp"
#include "xgrad/core/kernels/batch_norm_pool.hpp"
#include "xgrad/core/small_object_pool.hpp"
#include "xgrad/core/storage_pool.hpp"

namespace xgrad {
namespace {

// No allocation here: the op runs three times per step in the reference networks.
void check_arguments(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                     const Tensor& bias, bool training, float momentum, float eps, std::size_t HW) {
  const Shape& s = x.shape();
  XGRAD_CHECK(running_mean.defined() == running_var.defined(),
              "batch_norm: running_mean and running_var must be both defined or both undefined");
  const std::pair<const Tensor*, const char*> per_channel[] = {
      {&running_mean, "running_mean"}, {&running_var, "running_var"}, {&weight, "weight"}, {&bias, "bias"}};
  for (const auto& [t, what] : per_channel) {
    XGRAD_CHECK(!t->defined() || (t->dim() == 1 && t->shape()[0] == s[1]), "batch_norm: ", what, " of shape ",
                shape_str(t->shape()), " does not match the ", s[1], " channels of input ", shape_str(s));
  }
  XGRAD_CHECK(eps >= 0.0f && std::isfinite(eps), "batch_norm: eps must be finite and >= 0, got ", eps);
  XGRAD_CHECK(momentum >= 0.0f && momentum <= 1.0f, "batch_norm: momentum must be in [0, 1], got ", momentum);
  if (training) {
    XGRAD_CHECK(s[0] * HW > 1, "batch_norm: expected more than 1 value per channel when training, ",
                "got input size ", shape_str(s));
  } else {
    XGRAD_CHECK(running_mean.defined(), "batch_norm: running_mean and running_var are needed when not training "
                "(input ", shape_str(s), ")");
  }
}

// PyTorch: running = (1 - momentum) running + momentum batch; Keras: moving = momentum moving +
// (1 - momentum) batch. w is the batch's weight either way. Computed in double, rounded once.
void update_running_stats(Tensor& running_mean, Tensor& running_var, const Tensor& batch_mean,
                          const Tensor& batch_var, std::size_t count, float momentum, const BatchNormExtras& extras) {
  const double m = momentum;
  const double w = extras.convention == MomentumConvention::PyTorch ? m : 1.0 - m;
  // Unbiased: var * M / (M - 1); the checks guarantee M > 1.
  const double correction = extras.unbiased_running_var ? double(count) / double(count - 1) : 1.0;
  float* rm = running_mean.data();
  float* rv = running_var.data();
  for (std::size_t c = 0; c < batch_mean.numel(); ++c) {
    rm[c] = static_cast<float>((1.0 - w) * rm[c] + w * batch_mean.data()[c]);
    rv[c] = static_cast<float>((1.0 - w) * rv[c] + w * (batch_var.data()[c] * correction));
  }
}

// Inference: the running estimates, copied so that a later training step cannot change the graph, and
// rstd = 1 / sqrt(running_var + eps) computed in double and rounded.
std::pair<Tensor, Tensor> running_statistics(const Tensor& running_mean, const Tensor& running_var, float eps) {
  const std::size_t C = running_mean.numel();
  Tensor mean = running_mean.clone(), rstd = empty({C});
  for (std::size_t c = 0; c < C; ++c) {
    rstd.data()[c] = static_cast<float>(1.0 / std::sqrt(double(running_var.data()[c]) + double(eps)));
  }
  return {mean, rstd};
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, float momentum, float eps, const BatchNormExtras& extras) {
  XGRAD_CHECK(x.defined() && x.dim() >= 2, "batch_norm: expected input of shape (N, C, *), got ",
              x.defined() ? shape_str(x.shape()) : "undefined");
  const Shape& s = x.shape();
  const std::size_t N = s[0], C = s[1];
  std::size_t HW = 1;  // 1 for (N, C)
  for (std::size_t i = 2; i < s.size(); ++i) HW *= s[i];
  check_arguments(x, running_mean, running_var, weight, bias, training, momentum, eps, HW);
  const bool relu = extras.relu;
  Tensor out = empty(s);

  if (training) {
    Tensor mean = empty({C}), var = empty({C}), rstd = empty({C});
    kernels::batch_norm_forward(out.data(), mean.data(), var.data(), rstd.data(), x.data(), data_or_null(weight),
                                data_or_null(bias), N, C, HW, eps, relu);
    if (running_mean.defined()) {
      Tensor rm = running_mean, rv = running_var;  // handles on the caller's storage
      update_running_stats(rm, rv, mean, var, N * HW, momentum, extras);
    }
    // The fused backward: see kernels::batch_norm_backward for the formula. With the ReLU it reads the
    // output (detached: the closure must not own the node that owns it) for the ReLU's mask.
    return record(out, relu ? "batch_norm_relu" : "batch_norm", {x, weight, bias},
                  [x, mean, rstd, weight, bias, y = relu ? out.detach() : Tensor(), N, C, HW](const Tensor& g) {
                    Tensor dx = grad_buffer(x), dgamma = grad_buffer(weight), dbeta = grad_buffer(bias);
                    kernels::batch_norm_backward(data_or_null(dx), data_or_null(dgamma), data_or_null(dbeta),
                                                 g.data(), x.data(), mean.data(), rstd.data(), data_or_null(weight),
                                                 N, C, HW, data_or_null(y));
                    return TensorList{dx, dgamma, dbeta};
                  }, {x, weight, relu ? out.detach() : Tensor()});
  }

  const auto statistics = running_statistics(running_mean, running_var, eps);
  const Tensor mean = statistics.first, rstd = statistics.second;
  kernels::batch_norm_inference(out.data(), x.data(), mean.data(), rstd.data(), data_or_null(weight),
                                data_or_null(bias), N, C, HW, relu);
  // dx = gamma rstd dy; the statistics are constants.
  return record(out, relu ? "batch_norm_inference_relu" : "batch_norm_inference", {x, weight, bias},
                [x, mean, rstd, weight, bias, y = relu ? out.detach() : Tensor(), N, C, HW](const Tensor& g) {
                  Tensor dx = grad_buffer(x), dgamma = grad_buffer(weight), dbeta = grad_buffer(bias);
                  kernels::batch_norm_inference_backward(data_or_null(dx), data_or_null(dgamma), data_or_null(dbeta),
                                                         g.data(), x.data(), mean.data(), rstd.data(),
                                                         data_or_null(weight), N, C, HW, data_or_null(y));
                  return TensorList{dx, dgamma, dbeta};
                }, {x, weight, relu ? out.detach() : Tensor()});
}

Tensor batch_norm_relu_max_pool2d(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                                  const Tensor& weight, const Tensor& bias, bool training, float momentum, float eps,
                                  const BatchNormExtras& extras) {
  XGRAD_CHECK(x.defined() && x.dim() == 4, "batch_norm_relu_max_pool2d: expected input of shape (N, C, H, W), got ",
              x.defined() ? shape_str(x.shape()) : "undefined");
  const Shape& s = x.shape();
  const std::size_t N = s[0], C = s[1], H = s[2], W = s[3];
  XGRAD_CHECK(H >= 2 && W >= 2 && H % 2 == 0 && W % 2 == 0, "batch_norm_relu_max_pool2d: the 2x2 max pool needs ",
              "an even height and width, got input ", shape_str(s));
  check_arguments(x, running_mean, running_var, weight, bias, training, momentum, eps, H * W);
  Tensor out = empty({N, C, H / 2, W / 2});
  // The winners' positions (h W + w within each plane), as max_pool2d keeps them, only for a backward.
  using Argmax = xt::uvector<std::int32_t, PoolAllocator<std::int32_t>>;
  const bool backward = needs_grad({x, weight, bias});
  auto argmax =
      backward ? std::allocate_shared<Argmax>(SmallObjectAllocator<Argmax>(), out.numel()) : std::shared_ptr<Argmax>();
  std::int32_t* winners = argmax ? argmax->data() : nullptr;
  const float *gamma = data_or_null(weight), *beta = data_or_null(bias);

  Tensor mean, rstd;
  if (training) {
    Tensor var = empty({C});
    mean = empty({C});
    rstd = empty({C});
    kernels::batch_norm_relu_max_pool_forward(out.data(), winners, mean.data(), var.data(), rstd.data(), x.data(),
                                              gamma, beta, N, C, H, W, eps);
    if (running_mean.defined()) {
      Tensor rm = running_mean, rv = running_var;
      update_running_stats(rm, rv, mean, var, N * H * W, momentum, extras);
    }
  } else {
    std::tie(mean, rstd) = running_statistics(running_mean, running_var, eps);
    kernels::batch_norm_relu_max_pool_inference(out.data(), winners, x.data(), mean.data(), rstd.data(), gamma, beta,
                                                N, C, H, W);
  }
  if (!backward) return out;
  // The backward rebuilds the BatchNorm's full-size upstream gradient from the pooled one, the pooled output
  // (the ReLU's mask) and the argmax; then batch_norm_backward's formula in training, and dx = gamma rstd dy
  // in inference (the statistics are constants). The two kernels take the same arguments.
  const auto kernel =
      training ? kernels::batch_norm_relu_max_pool_backward : kernels::batch_norm_relu_max_pool_inference_backward;
  const char* name = training ? "batch_norm_relu_max_pool2d" : "batch_norm_inference_relu_max_pool2d";
  return record(out, name, {x, weight, bias},
                [x, mean, rstd, weight, bias, y = out.detach(), argmax, N, C, H, W, kernel](const Tensor& g) {
                  Tensor dx = grad_buffer(x), dgamma = grad_buffer(weight), dbeta = grad_buffer(bias);
                  kernel(data_or_null(dx), data_or_null(dgamma), data_or_null(dbeta), g.data(), y.data(),
                         argmax->data(), x.data(), mean.data(), rstd.data(), data_or_null(weight), N, C, H, W);
                  return TensorList{dx, dgamma, dbeta};
                }, {x, weight, out.detach()});
}

}  // namespace xgrad
