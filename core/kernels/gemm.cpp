// gemm: see gemm.hpp. The only file that includes cblas.h. Where dispatch.hpp's gemm_path says so (alpha 1
// and beta 0, what the dense layers and matmul ask, from 2^16 multiply-adds), the AVX-512 kernels of
// gemm_avx512.cpp run instead of OpenBLAS, which this environment confines to AVX2 (OPENBLAS_CORETYPE=Haswell).
//
// OpenBLAS is never left to thread on its own: its threads and the library's OpenMP regions would take
// turns waking each other, which on a loaded machine costs a scheduler time slice per call (measured:
// ten times slower training at two threads). A large product is instead split here into blocks of rows
// (or of columns when there are few rows), one per OpenMP thread, each a single-threaded cblas_sgemm (the
// OpenMP flavour of OpenBLAS runs single-threaded inside a parallel region). Every element of C is still
// one dot product over all of K, computed by one call; the split depends only on the thread count.
#include "xgrad/core/kernels/gemm.hpp"

#include <cblas.h>
#include <omp.h>

#include <cstdint>

#include "xgrad/core/kernels/dispatch.hpp"
#include "xgrad/core/kernels/fast_paths.hpp"

namespace xgrad::kernels {
namespace {

// Below this many multiply-adds a parallel region costs more than it saves.
constexpr std::int64_t kThreadedFrom = std::int64_t(1) << 18;

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
              alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace

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
  if (gemm_path(trans_a, trans_b, M, N, K, alpha, beta) == KernelPath::Avx512) {
    if (trans_b) return fast::gemm_dots(M, N, K, A, lda, B, ldb, C, ldc);
    return fast::gemm_rows(trans_a, M, N, K, A, lda, B, ldb, C, ldc);
  }
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads == 1 || std::int64_t(M) * N * K < kThreadedFrom) {
    // In a parallel region, one thread, or below OpenBLAS's own threading threshold (the same 2^18):
    // OpenBLAS runs single-threaded here.
    sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  // Row block [m0, m1) of C reads rows m0.. of op(A): A + m0 lda, or A + m0 when A is stored transposed.
  // Column block [n0, n1) reads columns n0.. of op(B): B + n0, or B + n0 ldb when B is stored transposed.
  const bool by_rows = M >= 2 * threads * 4 || M >= N;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    const int size = by_rows ? M : N;
    const int lo = int(std::int64_t(size) * t / T), hi = int(std::int64_t(size) * (t + 1) / T);
    if (hi > lo) {
      if (by_rows) {
        const float* a = trans_a ? A + lo : A + std::int64_t(lo) * lda;
        sgemm(trans_a, trans_b, hi - lo, N, K, alpha, a, lda, B, ldb, beta, C + std::int64_t(lo) * ldc, ldc);
      } else {
        const float* b = trans_b ? B + std::int64_t(lo) * ldb : B + lo;
        sgemm(trans_a, trans_b, M, hi - lo, K, alpha, A, lda, b, ldb, beta, C + lo, ldc);
      }
    }
  }
}

}  // namespace xgrad::kernels
