// The fused BatchNorm + ReLU + 2x2 max pool kernels with AVX-512 (see batch_norm_pool.hpp), twins of the
// portable loops in batch_norm_pool.cpp. Each step is batch_norm_avx512.cpp's channel-plane step and
// pool2d_avx512.cpp's pooling step, with the same operations in the same order, so the bits are those of
// the unfused AVX-512 kernels; against the portable twins they agree to a few ulps, as the unfused ones do.
// Forward: per window row, the two input rows go through y = relu(fma(x, scale, offset)) (in double,
// rounded once) and straight into the pool's comparisons. Backward: the full-size dy is rebuilt one piece
// of a plane at a time (whole pooled rows, the whole plane up to 16 KB) into dx, and the unfused
// backward's 8-lane chunks run over that piece while it is in L1: pieces start and end on multiples of 8,
// so every value lands in the same lane, in the same order, as over the whole plane. The second pass
// reads dy back from dx and writes dx over it.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "xgrad/core/kernels/batch_norm_moments.hpp"
#include "xgrad/core/kernels/dispatch.hpp"
#include "xgrad/core/kernels/fast_paths.hpp"

#include "xgrad/core/kernels/avx512_begin.hpp"  // from here on, AVX-512

#include "xgrad/core/kernels/batch_norm_lanes.hpp"  // inside the region: compiled for AVX-512

namespace xgrad::kernels::fast {
namespace {

using std::size_t;

// Floats of dy rebuilt at a time (16 KB, in L1), at least 4 pooled rows: hence W <= kMaxWidth (dispatch.hpp).
constexpr size_t kPiece = 4096;
static_assert(kPiece == 8 * kBatchNormMaxPoolMaxWidth);

__mmask16 mask16(std::int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u);
}

// relu(fma(x, scale, offset)) for 16 floats: each half as batch_norm_avx512.cpp's affine<true> computes
// it (double, rounded once, then v where v > 0 or NaN, else +0).
inline __m512 bn_relu16(__m512 x, __m512d vs, __m512d vb) {
  const __m256 lo = _mm512_cvtpd_ps(_mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(x)), vs, vb));
  const __m256 hi = _mm512_cvtpd_ps(_mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(x, 1)), vs, vb));
  const __m512 y = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_NLE_UQ), y);
}

// Candidate v replaces the best when v > best or v is NaN (pool2d_avx512.cpp's take).
inline void take(__m512& best, __m512i& index, __m512 v, __m512i v_index) {
  const __mmask16 m = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  best = _mm512_mask_mov_ps(best, m, v);
  index = _mm512_mask_mov_epi32(index, m, v_index);
}

// One plane x (H, W) into out, argmax (H/2, W/2), 16 outputs at a time from two rows of 32 inputs.
void forward_plane(float* out, std::int32_t* argmax, const float* x, size_t H, size_t W, double scale,
                   double offset) {
  const size_t OH = H / 2, OW = W / 2;
  const __m512d vs = _mm512_set1_pd(scale), vb = _mm512_set1_pd(offset);
  const __m512i kEven = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i kOdd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i lane2 = _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1);
  const int Wi = int(W);
  for (size_t oh = 0; oh < OH; ++oh) {
    const float* r0 = x + 2 * oh * W;
    const float* r1 = r0 + W;
    for (size_t ow = 0; ow < OW; ow += 16) {
      const std::int64_t n = std::int64_t(std::min<size_t>(OW - ow, 16));
      const size_t w0 = 2 * ow;
      const __mmask16 lo = mask16(2 * n), hi = mask16(2 * n - 16);
      const __m512 a0 = bn_relu16(_mm512_maskz_loadu_ps(lo, r0 + w0), vs, vb);
      const __m512 a1 = bn_relu16(_mm512_maskz_loadu_ps(hi, r0 + w0 + 16), vs, vb);
      const __m512 b0 = bn_relu16(_mm512_maskz_loadu_ps(lo, r1 + w0), vs, vb);
      const __m512 b1 = bn_relu16(_mm512_maskz_loadu_ps(hi, r1 + w0 + 16), vs, vb);
      const __m512i base = _mm512_add_epi32(_mm512_set1_epi32(int(2 * oh * W + w0)), lane2);
      __m512 best = _mm512_permutex2var_ps(a0, kEven, a1);
      __m512i index = base;
      take(best, index, _mm512_permutex2var_ps(a0, kOdd, a1), _mm512_add_epi32(base, _mm512_set1_epi32(1)));
      take(best, index, _mm512_permutex2var_ps(b0, kEven, b1), _mm512_add_epi32(base, _mm512_set1_epi32(Wi)));
      take(best, index, _mm512_permutex2var_ps(b0, kOdd, b1), _mm512_add_epi32(base, _mm512_set1_epi32(Wi + 1)));
      const size_t o = oh * OW + ow;
      _mm512_mask_storeu_ps(out + o, mask16(n), best);
      if (argmax) _mm512_mask_storeu_epi32(argmax + o, mask16(n), index);
    }
  }
}

void forward_channel(float* out, std::int32_t* argmax, float* mean, float* var, float* rstd, const float* in,
                     const float* gamma, const float* beta, size_t N, size_t C, size_t H, size_t W, float eps,
                     size_t c) {
  const ChannelMoments s = planes_channel_moments(in, c, N, C, H * W, eps);
  mean[c] = float(s.mean);
  var[c] = float(s.var);
  rstd[c] = float(s.rstd);
  // As batch_norm_avx512.cpp's planes_forward_channel: x scale + (shift - mean scale), in double.
  const double scale = s.rstd * (gamma ? gamma[c] : 1.0f), shift = beta ? beta[c] : 0.0f;
  const double offset = shift - s.mean * scale;
  const size_t OHW = (H / 2) * (W / 2);
  for (size_t n = 0; n < N; ++n) {
    const size_t p = n * C + c;
    if (n + 1 < N) prefetch(in + (p + C) * H * W, H * W);
    forward_plane(out + p * OHW, argmax ? argmax + p * OHW : nullptr, in + p * H * W, H, W, scale, offset);
  }
}

// dy of one plane over its pooled rows [oh0, oh1), that is positions [2 oh0 W, 2 oh1 W), into buf: at
// window w's argmax, 0 + dout[w] if out[w] > 0, else +0 (what the pool's backward scatters into its zeroed
// dx, masked by the ReLU); +0 everywhere else. Every position is written: per window, its value goes to
// the one of its four positions the argmax names, and the even and odd columns are interleaved.
void rebuild_dy(float* buf, size_t oh0, size_t oh1, const float* dout, const float* out, const std::int32_t* argmax,
                size_t W) {
  const size_t OW = W / 2;
  const __m512 zero = _mm512_setzero_ps();
  const __m512i lane2 = _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1);
  // Lanes 0-15 of (even, odd) interleaved: columns 0-15, then 16-31.
  const __m512i kLo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i kHi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const int Wi = int(W);
  for (size_t oh = oh0; oh < oh1; ++oh) {
    for (size_t ow = 0; ow < OW; ow += 16) {
      const std::int64_t n = std::int64_t(std::min<size_t>(OW - ow, 16));
      const __mmask16 k = mask16(n);
      const size_t w = oh * OW + ow;
      const __m512i at = _mm512_maskz_loadu_epi32(k, argmax + w);
      const __mmask16 pass = _mm512_mask_cmp_ps_mask(k, _mm512_maskz_loadu_ps(k, out + w), zero, _CMP_GT_OQ);
      const __m512 v = _mm512_maskz_mov_ps(pass, _mm512_add_ps(zero, _mm512_maskz_loadu_ps(k, dout + w)));
      const size_t p0 = 2 * oh * W + 2 * ow;  // each window's top-left position is p0 + 2 lane
      const __m512i base = _mm512_add_epi32(_mm512_set1_epi32(int(p0)), lane2);
      auto at_offset = [&](int d) {  // v where the argmax is the window's position top-left + d, else +0
        return _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(at, _mm512_add_epi32(base, _mm512_set1_epi32(d))), v);
      };
      const __m512 v00 = at_offset(0), v01 = at_offset(1), v10 = at_offset(Wi), v11 = at_offset(Wi + 1);
      float* row0 = buf + (p0 - 2 * oh0 * W);
      float* row1 = row0 + W;
      _mm512_mask_storeu_ps(row0, mask16(2 * n), _mm512_permutex2var_ps(v00, kLo, v01));
      _mm512_mask_storeu_ps(row1, mask16(2 * n), _mm512_permutex2var_ps(v10, kLo, v11));
      if (n > 8) {
        _mm512_mask_storeu_ps(row0 + 16, mask16(2 * n - 16), _mm512_permutex2var_ps(v00, kHi, v01));
        _mm512_mask_storeu_ps(row1 + 16, mask16(2 * n - 16), _mm512_permutex2var_ps(v10, kHi, v11));
      }
    }
  }
}

// Channel c of the training backward: batch_norm_avx512.cpp's planes_backward_channel with dy read from
// the rebuilt pieces (already masked by the ReLU) instead of a full-size dy and relu_out. The first pass
// rebuilds dy into dx (into a buffer on the stack when dx is not wanted) and takes its sums; the second
// reads it back from dx and overwrites it in place, element by element.
void backward_channel(float* dx, float* dgamma, float* dbeta, const float* dout, const float* out,
                      const std::int32_t* argmax, const float* in, const float* mean, const float* rstd,
                      const float* gamma, size_t N, size_t C, size_t H, size_t W, size_t c) {
  const size_t HW = H * W, OH = H / 2, OHW = OH * (W / 2);
  const double M = double(N * HW);
  const double m = mean[c], r = rstd[c], g = gamma ? gamma[c] : 1.0f;
  const __m512d vm = _mm512_set1_pd(m);
  // A piece is R pooled rows, 2 R W positions: R a multiple of 4 makes it a multiple of 8 long.
  const size_t R = 4 * (kPiece / (8 * W));
  alignas(64) float buf[kPiece];
  __m512d s_dy = _mm512_setzero_pd(), s_dyx = _mm512_setzero_pd();
  for (size_t n = 0; n < N; ++n) {
    const size_t p = n * C + c;
    if (n + 1 < N) {  // the next plane's inputs, as planes_backward_channel asks for its own
      const size_t q = p + C;
      prefetch(in + q * HW, HW);
      prefetch(dout + q * OHW, OHW);
      prefetch(out + q * OHW, OHW);
      prefetch(argmax + q * OHW, OHW);
    }
    for (size_t oh = 0; oh < OH; oh += R) {
      const size_t oh_end = std::min(oh + R, OH), a = 2 * oh * W, len = 2 * (oh_end - oh) * W;
      float* dy = dx ? dx + p * HW + a : buf;
      rebuild_dy(dy, oh, oh_end, dout + p * OHW, out + p * OHW, argmax + p * OHW, W);
      const float* x = in + p * HW + a;
      for (size_t i = 0; i < len; i += 8) {
        const __mmask8 k = mask8(len - i);
        add_dy_sums(s_dy, s_dyx, load8(dy + i, k), x + i, k, vm);
      }
    }
  }
  const DxCoefficients coef = channel_backward_end(dgamma, dbeta, c, _mm512_reduce_add_pd(s_dy),
                                                _mm512_reduce_add_pd(s_dyx) * r, g, m, r, M);
  if (!dx) return;
  const __m512d va = _mm512_set1_pd(coef.a), vp = _mm512_set1_pd(coef.p), vq = _mm512_set1_pd(coef.q);
  for (size_t n = 0; n < N; ++n) {
    const size_t p = n * C + c;
    const float* x = in + p * HW;
    float* d = dx + p * HW;
    for (size_t i = 0; i < HW; i += 8) {
      const __mmask8 k = mask8(HW - i);
      store_dx(d + i, k, load8(d + i, k), x + i, va, vp, vq);
    }
  }
}

}  // namespace

void batch_norm_relu_max_pool_forward(float* out, std::int32_t* argmax, float* mean, float* var, float* rstd,
                                      const float* in, const float* gamma, const float* beta, size_t N, size_t C,
                                      size_t H, size_t W, float eps) {
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < std::int64_t(C); ++c) {
    forward_channel(out, argmax, mean, var, rstd, in, gamma, beta, N, C, H, W, eps, size_t(c));
  }
}

void batch_norm_relu_max_pool_backward(float* dx, float* dgamma, float* dbeta, const float* dout, const float* out,
                                       const std::int32_t* argmax, const float* in, const float* mean,
                                       const float* rstd, const float* gamma, size_t N, size_t C, size_t H,
                                       size_t W) {
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < std::int64_t(C); ++c) {
    backward_channel(dx, dgamma, dbeta, dout, out, argmax, in, mean, rstd, gamma, N, C, H, W, size_t(c));
  }
}

}  // namespace xgrad::kernels::fast

#include "xgrad/core/kernels/avx512_end.hpp"
