// The AVX-512 entry points of the pooling, batch-norm and matrix-product kernels (pool2d_avx512.cpp,
// batch_norm_avx512.cpp, batch_norm_pool_avx512.cpp, gemm_avx512.cpp). Internal to core/kernels: the
// kernels' entry points call them only where dispatch.hpp says so, and they compute what the portable
// loops compute (bit for bit or to a few ulps, as each file says).
#pragma once
#include <cstddef>
#include <cstdint>

namespace xgrad::kernels::fast {

// Max pooling with a 2x2 window, stride 2, no padding, over planes of (H, W).
void max_pool2x2_forward(float* out, std::int32_t* argmax, const float* in, int planes, int H, int W);

// Batch norm (batch_norm.hpp's formulas, with its fused ReLU) over channel planes, (N, C, HW) with HW > 1,
// and over rows of channels, (N, C).
void batch_norm_planes_forward(float* out, float* mean, float* var, float* rstd, const float* in,
                               const float* gamma, const float* beta, std::size_t N, std::size_t C,
                               std::size_t HW, float eps, bool relu);
void batch_norm_planes_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* in,
                                const float* mean, const float* rstd, const float* gamma, std::size_t N,
                                std::size_t C, std::size_t HW, const float* relu_out);
void batch_norm_rows_forward(float* out, float* mean, float* var, float* rstd, const float* in, const float* gamma,
                             const float* beta, std::size_t N, std::size_t C, float eps, bool relu);
void batch_norm_rows_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* in,
                              const float* mean, const float* rstd, const float* gamma, std::size_t N,
                              std::size_t C, const float* relu_out);

// The fused batch norm + ReLU + 2x2 max pool (batch_norm_pool.hpp), training forward and backward, over
// (N, C, H, W) with H and W even.
void batch_norm_relu_max_pool_forward(float* out, std::int32_t* argmax, float* mean, float* var, float* rstd,
                                      const float* in, const float* gamma, const float* beta, std::size_t N,
                                      std::size_t C, std::size_t H, std::size_t W, float eps);
void batch_norm_relu_max_pool_backward(float* dx, float* dgamma, float* dbeta, const float* dout, const float* out,
                                       const std::int32_t* argmax, const float* in, const float* mean,
                                       const float* rstd, const float* gamma, std::size_t N, std::size_t C,
                                       std::size_t H, std::size_t W);

// Row-major products for kernels::gemm with alpha 1 and beta 0: C (M, N) = op(A) B with B stored (K, N)
// and op(A) = A (M, K) or, when trans_a, A^T with A stored (K, M); and C = A B^T with B stored (N, K).
void gemm_rows(bool trans_a, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
               int ldc);
void gemm_dots(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc);

}  // namespace xgrad::kernels::fast
