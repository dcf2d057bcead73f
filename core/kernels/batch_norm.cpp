// The fused batch-normalization kernels: see batch_norm.hpp. Per-element arithmetic is done in double and
// rounded once, so outputs agree with a double reference to float rounding.
#include "core/kernels/batch_norm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/kernels/cpu_features.hpp"
#include "core/kernels/fast_paths.hpp"

namespace xgrad::kernels {
namespace {

// Channel c of image n: HW contiguous values.
inline std::size_t plane(std::size_t n, std::size_t c, std::size_t C, std::size_t HW) { return (n * C + c) * HW; }

struct GradSums {
  double dy = 0.0;       // sum(dy)
  double dy_xhat = 0.0;  // sum(dy * xhat)
};

// sum(dy) and sum(dy * xhat) over channel c, xhat = (x - mean) * rstd.
GradSums grad_sums(const float* dy, const float* in, double mean, double rstd, std::size_t c, std::size_t N,
                   std::size_t C, std::size_t HW) {
  GradSums s;
  for (std::size_t n = 0; n < N; ++n) {
    const float* x = in + plane(n, c, C, HW);
    const float* g = dy + plane(n, c, C, HW);
    for (std::size_t i = 0; i < HW; ++i) {
      s.dy += g[i];
      s.dy_xhat += g[i] * (x[i] - mean);
    }
  }
  s.dy_xhat *= rstd;
  return s;
}

}  // namespace

void batch_norm_forward(float* out, float* mean, float* var, float* rstd, const float* in, const float* gamma,
                        const float* beta, std::size_t N, std::size_t C, std::size_t HW, float eps) {
  if (fast_paths_enabled() && N * HW > 0) {
    if (HW == 1) return fast::batch_norm_rows_forward(out, mean, var, rstd, in, gamma, beta, N, C, eps);
    return fast::batch_norm_planes_forward(out, mean, var, rstd, in, gamma, beta, N, C, HW, eps);
  }
  const double M = static_cast<double>(N * HW);
#pragma omp parallel for schedule(static)
  for (std::int64_t ci = 0; ci < static_cast<std::int64_t>(C); ++ci) {
    const auto c = static_cast<std::size_t>(ci);
    // One pass for the statistics, shifted by the channel's first value k so that the sum of squares does
    // not cancel when |mean| >> std: mean = k + s1 / M, var = (s2 - s1^2 / M) / M with s = sums of x - k.
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
    const double r = 1.0 / std::sqrt(v + static_cast<double>(eps));
    mean[c] = static_cast<float>(m);
    var[c] = static_cast<float>(v);
    rstd[c] = static_cast<float>(r);
    // out = (x - mean) * (rstd * gamma) + beta
    const double scale = r * (gamma ? gamma[c] : 1.0f);
    const double shift = beta ? beta[c] : 0.0f;
    for (std::size_t n = 0; n < N; ++n) {
      const float* x = in + plane(n, c, C, HW);
      float* y = out + plane(n, c, C, HW);
      for (std::size_t i = 0; i < HW; ++i) y[i] = static_cast<float>((x[i] - m) * scale + shift);
    }
  }
}

void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* in,
                         const float* mean, const float* rstd, const float* gamma, std::size_t N, std::size_t C,
                         std::size_t HW) {
  if (fast_paths_enabled() && N * HW > 0) {
    if (HW == 1) return fast::batch_norm_rows_backward(dx, dgamma, dbeta, dy, in, mean, rstd, gamma, N, C);
    return fast::batch_norm_planes_backward(dx, dgamma, dbeta, dy, in, mean, rstd, gamma, N, C, HW);
  }
  const double M = static_cast<double>(N * HW);
#pragma omp parallel for schedule(static)
  for (std::int64_t ci = 0; ci < static_cast<std::int64_t>(C); ++ci) {
    const auto c = static_cast<std::size_t>(ci);
    const double m = mean[c], r = rstd[c], g = gamma ? gamma[c] : 1.0f;
    const GradSums s = grad_sums(dy, in, m, r, c, N, C, HW);
    if (dgamma) dgamma[c] = static_cast<float>(s.dy_xhat);
    if (dbeta) dbeta[c] = static_cast<float>(s.dy);
    if (!dx) continue;
    // dx = g rstd (dy - sum(dy) / M - xhat sum(dy xhat) / M), the fused form of the formula in the header.
    const double a = g * r, mean_dy = s.dy / M, mean_dy_xhat = s.dy_xhat / M;
    for (std::size_t n = 0; n < N; ++n) {
      const float* x = in + plane(n, c, C, HW);
      const float* gy = dy + plane(n, c, C, HW);
      float* d = dx + plane(n, c, C, HW);
      for (std::size_t i = 0; i < HW; ++i) {
        const double xhat = (x[i] - m) * r;
        d[i] = static_cast<float>(a * (gy[i] - mean_dy - xhat * mean_dy_xhat));
      }
    }
  }
}

void batch_norm_inference(float* out, const float* in, const float* mean, const float* rstd, const float* gamma,
                          const float* beta, std::size_t N, std::size_t C, std::size_t HW) {
#pragma omp parallel for schedule(static)
  for (std::int64_t ci = 0; ci < static_cast<std::int64_t>(C); ++ci) {
    const auto c = static_cast<std::size_t>(ci);
    // out = (x - mean) * (rstd * gamma) + beta
    const double m = mean[c];
    const double scale = static_cast<double>(rstd[c]) * (gamma ? gamma[c] : 1.0f);
    const double shift = beta ? beta[c] : 0.0f;
    for (std::size_t n = 0; n < N; ++n) {
      const float* x = in + plane(n, c, C, HW);
      float* y = out + plane(n, c, C, HW);
      for (std::size_t i = 0; i < HW; ++i) y[i] = static_cast<float>((x[i] - m) * scale + shift);
    }
  }
}

void batch_norm_inference_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* in,
                                   const float* mean, const float* rstd, const float* gamma, std::size_t N,
                                   std::size_t C, std::size_t HW) {
#pragma omp parallel for schedule(static)
  for (std::int64_t ci = 0; ci < static_cast<std::int64_t>(C); ++ci) {
    const auto c = static_cast<std::size_t>(ci);
    if (dgamma || dbeta) {
      const GradSums s = grad_sums(dy, in, mean[c], rstd[c], c, N, C, HW);
      if (dgamma) dgamma[c] = static_cast<float>(s.dy_xhat);
      if (dbeta) dbeta[c] = static_cast<float>(s.dy);
    }
    if (!dx) continue;
    // dx = gamma * rstd * dy
    const double a = static_cast<double>(rstd[c]) * (gamma ? gamma[c] : 1.0f);
    for (std::size_t n = 0; n < N; ++n) {
      const float* gy = dy + plane(n, c, C, HW);
      float* d = dx + plane(n, c, C, HW);
      for (std::size_t i = 0; i < HW; ++i) d[i] = static_cast<float>(a * gy[i]);
    }
  }
}

}  // namespace xgrad::kernels
