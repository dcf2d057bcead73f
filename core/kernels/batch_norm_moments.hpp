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
}  // namespace fast

}  // namespace xgrad::kernels
