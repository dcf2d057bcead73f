// The 2x2, stride-2, unpadded max pooling of the reference networks with AVX-512: one output row of 16
// values from two input rows of 32, the even and odd columns split by a permute. The same comparisons in
// the same order as the reference loop (first index on ties, a NaN wins), so outputs and argmax agree
// bit for bit. Called only when cpu_features says the CPU has AVX-512 (see pool2d.cpp). The backward
// pass stays the portable one: a fill and a scatter of the winners, which measured as fast.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "xgrad/core/kernels/fast_paths.hpp"

#include "xgrad/core/kernels/avx512_begin.hpp"  // from here on, AVX-512

namespace xgrad::kernels::fast {
namespace {

using std::size_t;

// The first n lanes (none for n <= 0).
__mmask16 mask16(int n) { return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u); }

// Permutes of a pair of registers (lanes 16-31 name the second), built inside the functions: a
// namespace-scope vector constant would run AVX-512 code at start-up on every CPU.
inline __m512i even_lanes() { return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30); }
inline __m512i odd_lanes() { return _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31); }

// Candidate v replaces the best when v > best or v is NaN (the reference's test).
inline void take(__m512& best, __m512i& index, __m512 v, __m512i v_index) {
  const __mmask16 m = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  best = _mm512_mask_mov_ps(best, m, v);
  index = _mm512_mask_mov_epi32(index, m, v_index);
}

inline __m512i lanes_times_2() {
  return _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1);
}

// One plane x (H, W) into out, argmax (OH, OW): the max of x[2 oh + dh, 2 ow + dw] taken in the order
// (0,0), (0,1), (1,0), (1,1).
void forward_plane(float* out, std::int32_t* argmax, const float* x, int H, int W) {
  const int OH = H / 2, OW = W / 2;
  const __m512i lane2 = lanes_times_2(), kEven = even_lanes(), kOdd = odd_lanes();
  for (int oh = 0; oh < OH; ++oh) {
    const float* r0 = x + size_t(2 * oh) * W;
    const float* r1 = r0 + W;
    for (int ow = 0; ow < OW; ow += 16) {
      const int n = OW - ow < 16 ? OW - ow : 16;  // outputs in this chunk
      const int w0 = 2 * ow;
      const __mmask16 lo = mask16(2 * n), hi = mask16(2 * n - 16);
      const __m512 a0 = _mm512_maskz_loadu_ps(lo, r0 + w0), a1 = _mm512_maskz_loadu_ps(hi, r0 + w0 + 16);
      const __m512 b0 = _mm512_maskz_loadu_ps(lo, r1 + w0), b1 = _mm512_maskz_loadu_ps(hi, r1 + w0 + 16);
      const __m512i base = _mm512_add_epi32(_mm512_set1_epi32(2 * oh * W + w0), lane2);
      __m512 best = _mm512_permutex2var_ps(a0, kEven, a1);
      __m512i index = base;
      take(best, index, _mm512_permutex2var_ps(a0, kOdd, a1), _mm512_add_epi32(base, _mm512_set1_epi32(1)));
      take(best, index, _mm512_permutex2var_ps(b0, kEven, b1), _mm512_add_epi32(base, _mm512_set1_epi32(W)));
      take(best, index, _mm512_permutex2var_ps(b0, kOdd, b1), _mm512_add_epi32(base, _mm512_set1_epi32(W + 1)));
      const size_t o = size_t(oh) * OW + ow;
      _mm512_mask_storeu_ps(out + o, mask16(n), best);
      if (argmax) _mm512_mask_storeu_epi32(argmax + o, mask16(n), index);
    }
  }
}

}  // namespace

void max_pool2x2_forward(float* out, std::int32_t* argmax, const float* in, int planes, int H, int W) {
  const size_t in_plane = size_t(H) * W, out_plane = size_t(H / 2) * (W / 2);
#pragma omp parallel for schedule(static) if (planes * out_plane > 8192)
  for (int p = 0; p < planes; ++p) {
    forward_plane(out + p * out_plane, argmax ? argmax + p * out_plane : nullptr, in + p * in_plane, H, W);
  }
}

}  // namespace xgrad::kernels::fast

#include "xgrad/core/kernels/avx512_end.hpp"
