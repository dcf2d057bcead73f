// The fast matrix products for kernels::gemm (gemm.cpp), with AVX-512, for the dense layers' three
// shapes: C = A B and C = A^T B run rows_tile over B's rows (vectors along C's columns), C = A B^T runs
// dots_tile (vectors along K, both operands' rows contiguous). Threaded over independent blocks of C
// (each element is one tile's fixed-order sum, so results do not depend on the thread count); a call from
// inside a parallel region runs on its thread alone. Called only when cpu_features says AVX-512.
#include <immintrin.h>
#include <omp.h>

#include <vector>

#include "xgrad/core/kernels/fast_paths.hpp"

#include "xgrad/core/kernels/avx512_begin.hpp"  // from here on, AVX-512

#include "xgrad/core/kernels/avx512_tiles.hpp"  // inside the region: its tiles are compiled for AVX-512

namespace xgrad::kernels::fast {
namespace {

// Per-thread scratch for packed panels and offset tables: grows to the largest call, then is reused.
float* scratch(size_t floats) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < floats) buffer.resize(floats);
  return buffer.data();
}

}  // namespace

void gemm_rows(bool trans_a, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C,
               int ldc) {
  const int panels = (M + MR - 1) / MR, nslots = (N + kVec - 1) / kVec;
  float* packed = scratch(size_t(panels) * K * MR + round_up(size_t(K), 16) + round_up(size_t(nslots), 16) * 3);
  int* tap = reinterpret_cast<int*>(packed + size_t(panels) * K * MR);
  Slot* slots = reinterpret_cast<Slot*>(tap + round_up(size_t(K), 16));
  // panel p: packed[p][k][m] = op(A)[p MR + m, k], zero past M.
  for (int p = 0; p < panels; ++p) {
    for (int k = 0; k < K; ++k) {
      for (int m = 0; m < MR; ++m) {
        const int row = p * MR + m;
        const float a = row >= M ? 0.0f : trans_a ? A[size_t(k) * lda + row] : A[size_t(row) * lda + k];
        packed[(size_t(p) * K + k) * MR + m] = a;
      }
    }
  }
  for (int k = 0; k < K; ++k) tap[k] = k * ldb;
  for (int s = 0; s < nslots; ++s) {
    const __mmask16 mask = tail_mask(N - s * kVec);
    slots[s] = {s * kVec, s * kVec, mask, mask};
  }
  // C[:, slot pair] for every panel; pairs are independent.
  const int pairs = (nslots + 1) / 2;
#pragma omp parallel for schedule(static) if (!omp_in_parallel() && std::int64_t(M) * N * K >= (1 << 18))
  for (int q = 0; q < pairs; ++q) {
    const int s = 2 * q, count = s + 1 < nslots ? 2 : 1;
    rows_image(C, size_t(ldc), M, packed, B, tap, K, slots + s, count, nullptr);
  }
}

void gemm_dots(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc) {
  const int nseg = (K + kVec - 1) / kVec;
  float* buffer = scratch(round_up(size_t(N), 16) + round_up(size_t(nseg), 16) * 3);
  int* tap = reinterpret_cast<int*>(buffer);
  Segment* seg = reinterpret_cast<Segment*>(tap + round_up(size_t(N), 16));
  for (int n = 0; n < N; ++n) tap[n] = n * ldb;
  for (int s = 0; s < nseg; ++s) seg[s] = {s * kVec, s * kVec, tail_mask(K - s * kVec)};
  const int m4 = M / 4 * 4, n4 = N / 4 * 4;
  const int row_blocks = (M + 3) / 4;
  // C[m, n] = the dot product of A's row m and B's row n; blocks of 4 rows of C are independent.
#pragma omp parallel for schedule(static) if (!omp_in_parallel() && std::int64_t(M) * N * K >= (1 << 18))
  for (int b = 0; b < row_blocks; ++b) {
    const int m = 4 * b;
    if (m < m4) {
      for (int n = 0; n < n4; n += 4) dots_tile<4, 4>(C, ldc, A, size_t(lda), 0, B, 0, tap, m, n, 0, 1, seg, nseg);
      for (int n = n4; n < N; ++n) dots_tile<4, 1>(C, ldc, A, size_t(lda), 0, B, 0, tap, m, n, 0, 1, seg, nseg);
    } else {
      for (int r = m; r < M; ++r) {
        for (int n = 0; n < n4; n += 4) dots_tile<1, 4>(C, ldc, A, size_t(lda), 0, B, 0, tap, r, n, 0, 1, seg, nseg);
        for (int n = n4; n < N; ++n) dots_tile<1, 1>(C, ldc, A, size_t(lda), 0, B, 0, tap, r, n, 0, 1, seg, nseg);
      }
    }
  }
}

}  // namespace xgrad::kernels::fast

#include "xgrad/core/kernels/avx512_end.hpp"
