// Row-major single-precision matrix product, C = alpha op(A) op(B) + beta C, on OpenBLAS's cblas_sgemm.
// A thin wrapper so that matmul, linear and conv2d need not include cblas.h; it adds no batching.
#pragma once

namespace xgrad::kernels {

// C (M, N) = alpha * op(A) (M, K) * op(B) (K, N) + beta * C, where op(X) = X^T when trans_x.
// A is stored (M, K), or (K, M) when trans_a; B is stored (K, N), or (N, K) when trans_b. lda, ldb and
// ldc are the row strides of the stored matrices. beta = 0 ignores C's old contents (even NaN).
void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);

}  // namespace xgrad::kernels
