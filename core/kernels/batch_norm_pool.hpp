// BatchNorm + ReLU + 2x2 stride-2 max pooling as one pass (the reference networks' Conv -> BatchNorm2d ->
// ReLU -> MaxPool2d(2) block): plain loops over contiguous (N, C, H, W) data, H and W even (the op checks).
// Not a new formula: the values and gradients of batch_norm.hpp's kernels with the fused ReLU followed by
// pool2d.hpp's max pooling, computed with the same operations in the same order, so on each kernel path
// (dispatch.hpp: batch_norm_path decides for both) the bits are those of the three ops run apart. What it
// saves is memory traffic: the full-size activation y = relu(bn(x)) is never written, nor read back by the
// pool, and the backward never writes the full-size dy that the pool's backward scatters.
// OpenMP runs over channels, so results do not depend on the thread count. gamma, beta, dgamma, dbeta and
// dx may be null (no affine, no gradient asked); argmax may be null when no backward will run.
#pragma once
#include <cstddef>
#include <cstdint>

namespace xgrad::kernels {

// Training forward. out, argmax: (N, C, H/2, W/2), out the max of relu((x - mean) rstd gamma + beta) over
// each 2x2 window (a NaN wins, the first index h W + w within the (H, W) plane on ties, as max_pool2d);
// mean, var, rstd: (C), as batch_norm_forward.
void batch_norm_relu_max_pool_forward(float* out, std::int32_t* argmax, float* mean, float* var, float* rstd,
                                      const float* in, const float* gamma, const float* beta, std::size_t N,
                                      std::size_t C, std::size_t H, std::size_t W, float eps);

// Training backward from dout (N, C, H/2, W/2), the forward's out and argmax. The full-size upstream
// gradient of the BatchNorm is recomputed where it is needed: dy[p] = 0 + dout[w] where p is window w's
// argmax and out[w] > 0 (the ReLU's mask: 0 and NaN cut), else +0. Then batch_norm_backward's sums and dx.
void batch_norm_relu_max_pool_backward(float* dx, float* dgamma, float* dbeta, const float* dout, const float* out,
                                       const std::int32_t* argmax, const float* in, const float* mean,
                                       const float* rstd, const float* gamma, std::size_t N, std::size_t C,
                                       std::size_t H, std::size_t W);

// Inference, the statistics fixed (mean and rstd from the running estimates): forward and backward as
// batch_norm_inference and batch_norm_inference_backward with the ReLU, then the pool.
void batch_norm_relu_max_pool_inference(float* out, std::int32_t* argmax, const float* in, const float* mean,
                                        const float* rstd, const float* gamma, const float* beta, std::size_t N,
                                        std::size_t C, std::size_t H, std::size_t W);
void batch_norm_relu_max_pool_inference_backward(float* dx, float* dgamma, float* dbeta, const float* dout,
                                                 const float* out, const std::int32_t* argmax, const float* in,
                                                 const float* mean, const float* rstd, const float* gamma,
                                                 std::size_t N, std::size_t C, std::size_t H, std::size_t W);

}  // namespace xgrad::kernels
