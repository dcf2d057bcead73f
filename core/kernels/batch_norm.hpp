// The fused batch-normalization kernels: plain loops over a contiguous (N, C, HW) array, statistics per
// channel c over its M = N * HW values, accumulated in double. They know nothing of the graph; the
// BatchNorm layers call them. OpenMP runs over channels (independent outputs), so results do not depend
// on the thread count. gamma and beta may be null (no affine: gamma = 1, beta = 0); so may dgamma, dbeta.
//
// Fused ReLU (the Conv -> BN -> ReLU block): with `relu` the forward writes max(0, y) (NaN passes, as
// relu() does), and the backward, given that output as relu_out, takes dy as zero wherever relu_out <= 0:
// the values and gradients of relu(batch_norm(x)), without the two extra passes over the activations that
// a separate ReLU costs in each direction. relu_out null: no ReLU.
#pragma once
#include <cstddef>

namespace xgrad::kernels {

// Training forward. Outputs: out (N, C, HW); per channel (C): mean, var (biased, divides by M, the value
// the running estimate is built from) and rstd = 1 / sqrt(var + eps).
void batch_norm_forward(float* out, float* mean, float* var, float* rstd, const float* in, const float* gamma,
                        const float* beta, std::size_t N, std::size_t C, std::size_t HW, float eps,
                        bool relu = false);

// Training backward, the statistics depending on x. With g = gamma[c], xhat = (x - mean) * rstd:
// dx = rstd / M * (M g dy - sum(g dy) - xhat sum(g dy xhat)), dgamma = sum(dy xhat), dbeta = sum(dy).
void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* in,
                         const float* mean, const float* rstd, const float* gamma, std::size_t N, std::size_t C,
                         std::size_t HW, const float* relu_out = nullptr);

// Inference forward with fixed statistics (the running estimates): out = (x - mean) * rstd * gamma + beta.
void batch_norm_inference(float* out, const float* in, const float* mean, const float* rstd, const float* gamma,
                          const float* beta, std::size_t N, std::size_t C, std::size_t HW, bool relu = false);

// Inference backward, the statistics being constants: dx = g rstd dy; dgamma, dbeta as in training.
void batch_norm_inference_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* in,
                                   const float* mean, const float* rstd, const float* gamma, std::size_t N,
                                   std::size_t C, std::size_t HW, const float* relu_out = nullptr);

}  // namespace xgrad::kernels
