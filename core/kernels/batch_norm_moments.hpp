// One channel's batch statistics, shared by the batch-norm kernels and the fused BatchNorm + ReLU + max
// pool kernels (batch_norm_pool.hpp) so that both normalize by the very same numbers. Internal to
// core/kernels. The portable twin is in batch_norm.cpp, the AVX-512 one in batch_norm_avx512.cpp; they
// agree to a few ulps, not bit for bit (the AVX-512 sums run in 8 lanes).
#pragma once
#include <cstddef>

namespace xgrad::kernels {

// Of channel c of (N, C, HW), over its M = N HW values, in double: mean, biased variance (divides by M)
// and rstd = 1 / sqrt(var + eps). The forward normalizes with these doubles and stores them rounded.
struct ChannelMoments {
  double mean, var, rstd;
};

ChannelMoments channel_moments(const float* in, std::size_t c, std::size_t N, std::size_t C, std::size_t HW,
                               float eps);

namespace fast {
ChannelMoments planes_channel_moments(const float* in, std::size_t c, std::size_t N, std::size_t C, std::size_t HW,
                                      float eps);

// The AVX-512 training backward's end for one channel, shared with the fused BN + ReLU + pool backward so
// that both give the very same bits: from sum(dy) and sum(dy xhat) over its M values, stores dgamma[c]
// and dbeta[c] (each where asked for) and returns dx = a dy + p x + q, the expansion in double of
// a (dy - sum(dy) / M - xhat sum(dy xhat) / M): a = gamma rstd, p = -a rstd sum(dy xhat) / M,
// q = -a sum(dy) / M - p mean.
struct DxCoefficients {
  double a, p, q;
};

inline DxCoefficients channel_backward_end(float* dgamma, float* dbeta, std::size_t c, double sum_dy,
                                           double sum_dy_xhat, double gamma, double mean, double rstd, double M) {
  if (dgamma) dgamma[c] = float(sum_dy_xhat);
  if (dbeta) dbeta[c] = float(sum_dy);
  const double a = gamma * rstd, p = -a * rstd * (sum_dy_xhat / M);
  return {a, p, -a * (sum_dy / M) - p * mean};
}
}  // namespace fast

}  // namespace xgrad::kernels
