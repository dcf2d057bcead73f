// The AVX-512 lanes the batch-norm kernels share: batch_norm_avx512.cpp and the fused BN + ReLU + pool of
// batch_norm_pool_avx512.cpp run the same chunks of 8 floats widened to double, so that both give the
// very same bits. Include only from a file compiled for AVX-512 (after avx512_begin.hpp): everything here
// has internal linkage, so no AVX-512 code can leak into the portable paths.
#pragma once
#include <immintrin.h>

#include <cstddef>

namespace xgrad::kernels::fast {
namespace {

// The first n of 8 lanes.
__mmask8 mask8(std::size_t n) { return n >= 8 ? __mmask8(0xFF) : __mmask8((1u << n) - 1u); }

inline __m512d load8(const float* p, __mmask8 m) { return _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, p)); }
inline void store8(float* p, __mmask8 m, __m512d v) { _mm256_mask_storeu_ps(p, m, _mm512_cvtpd_ps(v)); }

// Asks for n values from p (a channel's next plane: a few cache lines, too short for the hardware
// prefetcher to find on its own).
template <class T>
inline void prefetch(const T* p, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 64 / sizeof(T)) _mm_prefetch(reinterpret_cast<const char*>(p + i), _MM_HINT_T0);
}

// One chunk of the training backward's sums, sum(dy) and sum(dy (x - mean)), on the lanes of k: gv is the
// chunk's dy (zero where a fused ReLU stopped it).
inline void add_dy_sums(__m512d& s_dy, __m512d& s_dyx, __m512d gv, const float* x, __mmask8 k, __m512d mean) {
  s_dy = _mm512_add_pd(s_dy, gv);
  s_dyx = _mm512_fmadd_pd(gv, _mm512_maskz_sub_pd(k, load8(x, k), mean), s_dyx);
}

// One chunk of dx = a dy + p x + q (channel_backward_end's coefficients), in double, rounded once.
inline void store_dx(float* dx, __mmask8 k, __m512d gv, const float* x, __m512d a, __m512d p, __m512d q) {
  store8(dx, k, _mm512_fmadd_pd(gv, a, _mm512_fmadd_pd(load8(x, k), p, q)));
}

}  // namespace
}  // namespace xgrad::kernels::fast
