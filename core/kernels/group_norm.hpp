// The fused group-normalization kernels: x is a contiguous (N, C, HW) array whose C channels split into G
// groups of C / G consecutive channels; statistics are per (n, group) over its D = (C / G) * HW values,
// accumulated in double, and gamma, beta apply per channel. LayerNorm is the case G = 1, HW = 1 on x
// viewed as (rows, D). gamma and beta may be null (no affine); so may dx, dgamma, dbeta.
#pragma once
#include <cstddef>

namespace xgrad::kernels {

// out (N, C, HW); mean and rstd (N, G): rstd = 1 / sqrt(biased var + eps).
void group_norm_forward(float* out, float* mean, float* rstd, const float* in, const float* gamma, const float* beta,
                        std::size_t N, std::size_t C, std::size_t HW, std::size_t G, float eps);

// With xhat = (x - mean) * rstd and g = gamma[c], sums over the D values of x's group:
// dx = rstd / D * (D g dy - sum(g dy) - xhat sum(g dy xhat)); per channel over (n, hw):
// dgamma = sum(dy xhat), dbeta = sum(dy).
void group_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* in,
                         const float* mean, const float* rstd, const float* gamma, std::size_t N, std::size_t C,
                         std::size_t HW, std::size_t G);

}  // namespace xgrad::kernels
