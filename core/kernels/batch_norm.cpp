// The fused batch-normalization kernels: see batch_norm.hpp. Per-element arithmetic is done in double and
// rounded once, so outputs agree with a double reference to float rounding.
#include "xgrad/core/kernels/batch_norm.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "xgrad/core/kernels/batch_norm_moments.hpp"
#include "xgrad/core/kernels/dispatch.hpp"
#include "xgrad/core/kernels/fast_paths.hpp"

namespace xgrad::kernels {
namespace {

// Channel c of image n: HW contiguous values.
inline std::size_t plane(std::size_t n, std::size_t c, std::size_t C, std::size_t HW) { return (n * C + c) * HW; }

// relu(v) as relu() computes it: NaN passes through.
inline float relu_value(float v) { return v > 0.0f || std::isnan(v) ? v : 0.0f; }

// dy[i] where the fused ReLU let the value through (relu_out[i] > 0), else +0; dy[i] itself without a ReLU.
// No branch per value: GCC compiles the plain `?:` to a jump, mispredicted on half of random signs (8x
// slower), so the cut clears the bits instead. A template, so the loops do not test the pointer either.
template <bool Relu>
inline float masked_dy(const float* dy, const float* relu_out, std::size_t i) {
  if constexpr (Relu) {
    const std::uint32_t keep = 0u - static_cast<std::uint32_t>(relu_out[i] > 0.0f);  // all ones or zero
    return std::bit_cast<float>(std::bit_cast<std::uint32_t>(dy[i]) & keep);
  } else {
    return dy[i];
  }
}

// Channel c's output: out = (x - mean) * (rstd * gamma) + beta, then the ReLU if asked.
void normalize_channel(float* out, const float* in, double mean, double rstd, const float* gamma, const float* beta,
                       std::size_t c, std::size_t N, std::size_t C, std::size_t HW, bool relu) {
  const double scale = rstd * (gamma ? gamma[c] : 1.0f);
  const double shift = beta ? beta[c] : 0.0f;
  for (std::size_t n = 0; n < N; ++n) {
    const float* x = in + plane(n, c, C, HW);
    float* y = out + plane(n, c, C, HW);
    for (std::size_t i = 0; i < HW; ++i) {
      const auto v = static_cast<float>((x[i] - mean) * scale + shift);
      y[i] = relu ? relu_value(v) : v;
    }
  }
}

struct GradSums {
  double dy = 0.0;       // sum(dy)
  double dy_xhat = 0.0;  // sum(dy * xhat)
};

// sum(dy) and sum(dy * xhat) over channel c, xhat = (x - mean) * rstd, dy masked by the fused ReLU if any.
template <bool Relu>
GradSums grad_sums(const float* dy, const float* relu_out, const float* in, double mean, double rstd, std::size_t c,
                   std::size_t N, std::size_t C, std::size_t HW) {
  GradSums s;
  for (std::size_t n = 0; n < N; ++n) {
    const std::size_t p = plane(n, c, C, HW);
    for (std::size_t i = p; i < p + HW; ++i) {
      const float g = masked_dy<Relu>(dy, relu_out, i);
      s.dy += g;
      s.dy_xhat += g * (in[i] - mean);
    }
  }
  s.dy_xhat *= rstd;
  return s;
}

// Channel c of the training backward: see batch_norm.hpp for the formula.
template <bool Relu>
void backward_channel(float* dx, float* dgamma, float* dbeta, const float* dy, const float* relu_out, const float* in,
                      const float* mean, const float* rstd, const float* gamma, std::size_t c, std::size_t N,
                      std::size_t C, std::size_t HW) {
  const double M = static_cast<double>(N * HW);
  const double m = mean[c], r = rstd[c], g = gamma ? gamma[c] : 1.0f;
  const GradSums s = grad_sums<Relu>(dy, relu_out, in, m, r, c, N, C, HW);
  if (dgamma) dgamma[c] = static_cast<float>(s.dy_xhat);
  if (dbeta) dbeta[c] = static_cast<float>(s.dy);
  if (!dx) return;
  // dx = g rstd (dy - sum(dy) / M - xhat sum(dy xhat) / M), the fused form of the formula in the header.
  const double a = g * r, mean_dy = s.dy / M, mean_dy_xhat = s.dy_xhat / M;
  for (std::size_t n = 0; n < N; ++n) {
    const std::size_t p = plane(n, c, C, HW);
    for (std::size_t i = p; i < p + HW; ++i) {
      const double xhat = (in[i] - m) * r;
      dx[i] = static_cast<float>(a * (masked_dy<Relu>(dy, relu_out, i) - mean_dy - xhat * mean_dy_xhat));
    }
  }
}

// Channel c of the inference backward: dx = gamma rstd dy, the statistics being constants.
template <bool Relu>
void inference_backward_channel(float* dx, float* dgamma, float* dbeta, const float* dy, const float* relu_out,
                                const float* in, const float* mean, const float* rstd, const float* gamma,
                                std::size_t c, std::size_t N, std::size_t C, std::size_t HW) {
  if (dgamma || dbeta) {
    const GradSums s = grad_sums<Relu>(dy, relu_out, in, mean[c], rstd[c], c, N, C, HW);
    if (dgamma) dgamma[c] = static_cast<float>(s.dy_xhat);
    if (dbeta) dbeta[c] = static_cast<float>(s.dy);
  }
  if (!dx) return;
  const double a = static_cast<double>(rstd[c]) * (gamma ? gamma[c] : 1.0f);
  for (std::size_t n = 0; n < N; ++n) {
    const std::size_t p = plane(n, c, C, HW);
    for (std::size_t i = p; i < p + HW; ++i) dx[i] = static_cast<float>(a * masked_dy<Relu>(dy, relu_out, i));
  }
}

}  // namespace

// One pass for the statistics, shifted by the channel's first value k so that the sum of squares does not
// cancel when |mean| >> std: mean = k + s1 / M, var = (s2 - s1^2 / M) / M with s = sums of x - k.
ChannelMoments channel_moments(const float* in, std::size_t c, std::size_t N, std::size_t C, std::size_t HW,
                               float eps) {
  const double M = static_cast<double>(N * HW);
  const double k = in[plane(0, c, C, HW)];
  double s1 = 0.0, s2 = 0.0;
  for (std::size_t n = 0; n < N; ++n) {
    const float* x = in + plane(n, c, C, HW);
    for (std::size_t i = 0; i < HW; ++i) {
      const double d = x[i] - k;
      s1 += d;
      s2 += d * d;
    }
  }
  const double m = k + s1 / M;
  const double v = std::max(0.0, (s2 - s1 * s1 / M) / M);
  return {m, v, 1.0 / std::sqrt(v + static_cast<double>(eps))};
}

void batch_norm_forward(float* out, float* mean, float* var, float* rstd, const float* in, const float* gamma,
                        const float* beta, std::size_t N, std::size_t C, std::size_t HW, float eps, bool relu) {
  if (batch_norm_path(N, HW) == KernelPath::Avx512) {
    if (HW == 1) return fast::batch_norm_rows_forward(out, mean, var, rstd, in, gamma, beta, N, C, eps, relu);
    return fast::batch_norm_planes_forward(out, mean, var, rstd, in, gamma, beta, N, C, HW, eps, relu);
  }
#pragma omp parallel for schedule(static)
  for (std::int64_t ci = 0; ci < static_cast<std::int64_t>(C); ++ci) {
    const auto c = static_cast<std::size_t>(ci);
    const ChannelMoments s = channel_moments(in, c, N, C, HW, eps);
    mean[c] = static_cast<float>(s.mean);
    var[c] = static_cast<float>(s.var);
    rstd[c] = static_cast<float>(s.rstd);
    normalize_channel(out, in, s.mean, s.rstd, gamma, beta, c, N, C, HW, relu);
  }
}

void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* in,
                         const float* mean, const float* rstd, const float* gamma, std::size_t N, std::size_t C,
                         std::size_t HW, const float* relu_out) {
  if (batch_norm_path(N, HW) == KernelPath::Avx512) {
    if (HW == 1) return fast::batch_norm_rows_backward(dx, dgamma, dbeta, dy, in, mean, rstd, gamma, N, C, relu_out);
    return fast::batch_norm_planes_backward(dx, dgamma, dbeta, dy, in, mean, rstd, gamma, N, C, HW, relu_out);
  }
#pragma omp parallel for schedule(static)
  for (std::int64_t ci = 0; ci < static_cast<std::int64_t>(C); ++ci) {
    const auto c = static_cast<std::size_t>(ci);
    if (relu_out) {
      backward_channel<true>(dx, dgamma, dbeta, dy, relu_out, in, mean, rstd, gamma, c, N, C, HW);
    } else {
      backward_channel<false>(dx, dgamma, dbeta, dy, relu_out, in, mean, rstd, gamma, c, N, C, HW);
    }
  }
}

void batch_norm_inference(float* out, const float* in, const float* mean, const float* rstd, const float* gamma,
                          const float* beta, std::size_t N, std::size_t C, std::size_t HW, bool relu) {
#pragma omp parallel for schedule(static)
  for (std::int64_t ci = 0; ci < static_cast<std::int64_t>(C); ++ci) {
    const auto c = static_cast<std::size_t>(ci);
    normalize_channel(out, in, mean[c], rstd[c], gamma, beta, c, N, C, HW, relu);
  }
}

void batch_norm_inference_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* in,
                                   const float* mean, const float* rstd, const float* gamma, std::size_t N,
                                   std::size_t C, std::size_t HW, const float* relu_out) {
#pragma omp parallel for schedule(static)
  for (std::int64_t ci = 0; ci < static_cast<std::int64_t>(C); ++ci) {
    const auto c = static_cast<std::size_t>(ci);
    if (relu_out) {
      inference_backward_channel<true>(dx, dgamma, dbeta, dy, relu_out, in, mean, rstd, gamma, c, N, C, HW);
    } else {
      inference_backward_channel<false>(dx, dgamma, dbeta, dy, relu_out, in, mean, rstd, gamma, c, N, C, HW);
    }
  }
}

}  // namespace xgrad::kernels
