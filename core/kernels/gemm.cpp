// gemm: see gemm.hpp. The only file that includes cblas.h.
#include "core/kernels/gemm.hpp"

#include <cblas.h>

namespace xgrad::kernels {

void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    // An empty sum: C = beta C. Handled here because BLAS rejects the leading dimensions of empty A, B.
    for (int m = 0; m < M; ++m) {
      for (int n = 0; n < N; ++n) C[m * ldc + n] = beta == 0.0f ? 0.0f : beta * C[m * ldc + n];
    }
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N,
              K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace xgrad::kernels
