// The fused group-normalization kernels: see group_norm.hpp. Per-element arithmetic in double, rounded
// once. OpenMP runs over (n, group) for the output and dx, over channels for dgamma and dbeta.
#include "xgrad/core/kernels/group_norm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace xgrad::kernels {

void group_norm_forward(float* out, float* mean, float* rstd, const float* in, const float* gamma, const float* beta,
                        std::size_t N, std::size_t C, std::size_t HW, std::size_t G, float eps) {
  const std::size_t Cg = C / G, D = Cg * HW;
#pragma omp parallel for schedule(static)
  for (std::int64_t ngi = 0; ngi < static_cast<std::int64_t>(N * G); ++ngi) {
    const auto ng = static_cast<std::size_t>(ngi);
    const float* x = in + ng * D;  // the group's D contiguous values
    float* y = out + ng * D;
    // One pass, shifted by the group's first value k against cancellation: mean = k + s1 / D,
    // var = (s2 - s1^2 / D) / D with s = sums of x - k.
    const double k = D ? x[0] : 0.0;
    double s1 = 0.0, s2 = 0.0;
    for (std::size_t i = 0; i < D; ++i) {
      const double d = x[i] - k;
      s1 += d;
      s2 += d * d;
    }
    const double m = k + s1 / double(D), v = std::max(0.0, (s2 - s1 * s1 / double(D)) / double(D));
    const double r = 1.0 / std::sqrt(v + static_cast<double>(eps));
    mean[ng] = static_cast<float>(m);
    rstd[ng] = static_cast<float>(r);
    // out = (x - mean) * (rstd * gamma_c) + beta_c
    const std::size_t c0 = (ng % G) * Cg;
    for (std::size_t cc = 0; cc < Cg; ++cc) {
      const double scale = r * (gamma ? gamma[c0 + cc] : 1.0f), shift = beta ? beta[c0 + cc] : 0.0f;
      for (std::size_t i = cc * HW; i < (cc + 1) * HW; ++i) y[i] = static_cast<float>((x[i] - m) * scale + shift);
    }
  }
}

void group_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* in,
                         const float* mean, const float* rstd, const float* gamma, std::size_t N, std::size_t C,
                         std::size_t HW, std::size_t G) {
  const std::size_t Cg = C / G, D = Cg * HW;
  if (dgamma || dbeta) {
    // dgamma_c = sum over (n, hw) of dy xhat, dbeta_c = sum of dy.
#pragma omp parallel for schedule(static)
    for (std::int64_t ci = 0; ci < static_cast<std::int64_t>(C); ++ci) {
      const auto c = static_cast<std::size_t>(ci);
      double sg = 0.0, sb = 0.0;
      for (std::size_t n = 0; n < N; ++n) {
        const std::size_t ng = n * G + c / Cg, base = (n * C + c) * HW;
        const double m = mean[ng], r = rstd[ng];
        for (std::size_t i = base; i < base + HW; ++i) {
          sg += dy[i] * (in[i] - m) * r;
          sb += dy[i];
        }
      }
      if (dgamma) dgamma[c] = static_cast<float>(sg);
      if (dbeta) dbeta[c] = static_cast<float>(sb);
    }
  }
  if (!dx) return;
#pragma omp parallel for schedule(static)
  for (std::int64_t ngi = 0; ngi < static_cast<std::int64_t>(N * G); ++ngi) {
    const auto ng = static_cast<std::size_t>(ngi);
    const std::size_t c0 = (ng % G) * Cg, base = ng * D;
    const double m = mean[ng], r = rstd[ng];
    // s1 = sum(g dy), s2 = sum(g dy xhat) over the group.
    double s1 = 0.0, s2 = 0.0;
    for (std::size_t cc = 0; cc < Cg; ++cc) {
      const double g = gamma ? gamma[c0 + cc] : 1.0f;
      for (std::size_t i = base + cc * HW; i < base + (cc + 1) * HW; ++i) {
        s1 += g * dy[i];
        s2 += g * dy[i] * (in[i] - m) * r;
      }
    }
    // dx = rstd (g dy - s1 / D - xhat s2 / D)
    const double mean_s1 = s1 / double(D), mean_s2 = s2 / double(D);
    for (std::size_t cc = 0; cc < Cg; ++cc) {
      const double g = gamma ? gamma[c0 + cc] : 1.0f;
      for (std::size_t i = base + cc * HW; i < base + (cc + 1) * HW; ++i) {
        const double xhat = (in[i] - m) * r;
        dx[i] = static_cast<float>(r * (g * dy[i] - mean_s1 - xhat * mean_s2));
      }
    }
  }
}

}  // namespace xgrad::kernels
