// The batch-normalization kernels with AVX-512, for the two layouts the reference networks use: channel
// planes (HW > 1, one channel's values in N runs of HW) and channels last (HW == 1, BatchNorm1d, each
// row of C values holding every channel). The formulas are the portable kernels' (batch_norm.cpp), sums
// in double from the shifted values, each output computed in double and rounded once.
// Channel planes, the hot path: sums split across 8 double lanes and then added in a fixed order, and
// outputs from per-channel coefficients with fused multiply-adds (the same formula expanded, in double):
// the results agree with the portable loops to a few float ulps, not bit for bit.
// Rows: the portable loops' exact operations in the same order (sums over n in order), the same bits.
#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "xgrad/core/kernels/batch_norm_moments.hpp"
#include "xgrad/core/kernels/fast_paths.hpp"

#include "xgrad/core/kernels/avx512_begin.hpp"  // from here on, AVX-512

#include "xgrad/core/kernels/batch_norm_lanes.hpp"  // inside the region: compiled for AVX-512

namespace xgrad::kernels::fast {
namespace {

using std::size_t;

// Calls f(offset, mask) over [0, n) in chunks of 8.
template <class F>
inline void chunks8(size_t n, F&& f) {
  for (size_t i = 0; i < n; i += 8) f(i, mask8(n - i));
}

// Rounds v to float and stores relu of it as relu() computes it: v where v > 0 or v is NaN
// (not-less-or-equal, unordered), else +0. In float, after rounding: the same bits as a separate ReLU.
inline void store8_relu(float* p, __mmask8 m, __m512d v) {
  const __m256 f = _mm512_cvtpd_ps(v);
  const __mmask8 pass = _mm256_cmp_ps_mask(f, _mm256_setzero_ps(), _CMP_NLE_UQ);
  _mm256_mask_storeu_ps(p, m, _mm256_maskz_mov_ps(pass, f));
}

// The lanes of `k` where the fused ReLU let the value through (relu_out > 0); all of `k` without a ReLU.
// Loading dy under this mask is the ReLU's backward: zero where the ReLU output was 0 (or NaN).
inline __mmask8 relu_pass(__mmask8 k, const float* relu_out) {
  if (!relu_out) return k;
  return _mm256_mask_cmp_ps_mask(k, _mm256_maskz_loadu_ps(k, relu_out), _mm256_setzero_ps(), _CMP_GT_OQ);
}

// y = x scale + offset in double (one fused multiply-add), then the ReLU if asked, rounded once, over n
// values.
template <bool Relu>
inline void affine(float* y, const float* x, size_t n, double scale, double offset) {
  const __m512d vs = _mm512_set1_pd(scale), vb = _mm512_set1_pd(offset);
  chunks8(n, [&](size_t i, __mmask8 k) {
    const __m512d v = _mm512_fmadd_pd(load8(x + i, k), vs, vb);
    if constexpr (Relu) store8_relu(y + i, k, v);
    else store8(y + i, k, v);
  });
}

// Channel c of (N, C, HW): its statistics, then its output.
void planes_forward_channel(float* out, float* mean, float* var, float* rstd, const float* in, const float* gamma,
                            const float* beta, size_t N, size_t C, size_t HW, float eps, bool relu, size_t c) {
  const ChannelMoments s = planes_channel_moments(in, c, N, C, HW, eps);
  const double m = s.mean, r = s.rstd;
  mean[c] = float(m);
  var[c] = float(s.var);
  rstd[c] = float(r);
  // (x - mean) scale + shift = x scale + (shift - mean scale): in double the cancellation between the two
  // terms costs nothing a float output could show (it would take |mean| / std near 1e8).
  const double scale = r * (gamma ? gamma[c] : 1.0f), shift = beta ? beta[c] : 0.0f;
  const double offset = shift - m * scale;
  for (size_t n = 0; n < N; ++n) {
    float* y = out + (n * C + c) * HW;
    const float* x = in + (n * C + c) * HW;
    if (relu) affine<true>(y, x, HW, scale, offset);
    else affine<false>(y, x, HW, scale, offset);
  }
}

void planes_backward_channel(float* dx, float* dgamma, float* dbeta, const float* dy, const float* in,
                             const float* mean, const float* rstd, const float* gamma, size_t N, size_t C, size_t HW,
                             const float* relu_out, size_t c) {
  const double M = double(N * HW);
  const double m = mean[c], r = rstd[c], g = gamma ? gamma[c] : 1.0f;
  const __m512d vm = _mm512_set1_pd(m);
  // sum(dy) and sum(dy (x - mean)), then times rstd: sum(dy xhat).
  __m512d s_dy = _mm512_setzero_pd(), s_dyx = _mm512_setzero_pd();
  for (size_t n = 0; n < N; ++n) {
    const float* x = in + (n * C + c) * HW;
    const float* gy = dy + (n * C + c) * HW;
    const float* relu = relu_out ? relu_out + (n * C + c) * HW : nullptr;
    if (n + 1 < N) {
      prefetch(x + C * HW, HW);
      prefetch(gy + C * HW, HW);
      if (relu) prefetch(relu + C * HW, HW);
    }
    chunks8(HW, [&](size_t i, __mmask8 k) {
      add_dy_sums(s_dy, s_dyx, load8(gy + i, relu_pass(k, relu ? relu + i : nullptr)), x + i, k, vm);
    });
  }
  const DxCoefficients coef = channel_backward_end(dgamma, dbeta, c, _mm512_reduce_add_pd(s_dy),
                                                _mm512_reduce_add_pd(s_dyx) * r, g, m, r, M);
  if (!dx) return;
  const __m512d va = _mm512_set1_pd(coef.a), vp = _mm512_set1_pd(coef.p), vq = _mm512_set1_pd(coef.q);
  for (size_t n = 0; n < N; ++n) {
    const float* x = in + (n * C + c) * HW;
    const float* gy = dy + (n * C + c) * HW;
    const float* relu = relu_out ? relu_out + (n * C + c) * HW : nullptr;
    float* d = dx + (n * C + c) * HW;
    chunks8(HW, [&](size_t i, __mmask8 k) {
      store_dx(d + i, k, load8(gy + i, relu_pass(k, relu ? relu + i : nullptr)), x + i, va, vp, vq);
    });
  }
}

// Channels [c, c + 8) of (N, C): their sums over n, in order, then their outputs.
void rows_forward_block(float* out, float* mean, float* var, float* rstd, const float* in, const float* gamma,
                        const float* beta, size_t N, size_t C, float eps, bool relu, size_t c) {
  const __m512d M = _mm512_set1_pd(double(N)), one = _mm512_set1_pd(1.0), zero = _mm512_setzero_pd();
  const __mmask8 k = mask8(C - c);
  const __m512d vk = load8(in + c, k);
  __m512d s1 = zero, s2 = zero;
  for (size_t n = 0; n < N; ++n) {
    const __m512d d = _mm512_sub_pd(load8(in + n * C + c, k), vk);
    s1 = _mm512_add_pd(s1, d);
    s2 = _mm512_add_pd(s2, _mm512_mul_pd(d, d));
  }
  const __m512d m = _mm512_add_pd(vk, _mm512_div_pd(s1, M));
  // max(v, 0) returns its second operand for a NaN, as std::max(0.0, v) does.
  const __m512d v = _mm512_max_pd(_mm512_div_pd(_mm512_sub_pd(s2, _mm512_div_pd(_mm512_mul_pd(s1, s1), M)), M), zero);
  const __m512d r = _mm512_div_pd(one, _mm512_sqrt_pd(_mm512_add_pd(v, _mm512_set1_pd(double(eps)))));
  store8(mean + c, k, m);
  store8(var + c, k, v);
  store8(rstd + c, k, r);
  const __m512d scale = gamma ? _mm512_mul_pd(r, load8(gamma + c, k)) : r;
  const __m512d shift = beta ? load8(beta + c, k) : zero;
  for (size_t n = 0; n < N; ++n) {
    const __m512d x = load8(in + n * C + c, k);
    const __m512d y = _mm512_add_pd(_mm512_mul_pd(_mm512_sub_pd(x, m), scale), shift);
    if (relu) store8_relu(out + n * C + c, k, y);
    else store8(out + n * C + c, k, y);
  }
}

void rows_backward_block(float* dx, float* dgamma, float* dbeta, const float* dy, const float* in, const float* mean,
                         const float* rstd, const float* gamma, size_t N, size_t C, const float* relu_out, size_t c) {
  const __m512d M = _mm512_set1_pd(double(N)), zero = _mm512_setzero_pd();
  const __mmask8 k = mask8(C - c);
  const __m512d m = load8(mean + c, k), r = load8(rstd + c, k);
  const __m512d g = gamma ? load8(gamma + c, k) : _mm512_set1_pd(1.0);
  __m512d s_dy = zero, s_dyx = zero;
  for (size_t n = 0; n < N; ++n) {
    const __m512d gv = load8(dy + n * C + c, relu_pass(k, relu_out ? relu_out + n * C + c : nullptr));
    s_dy = _mm512_add_pd(s_dy, gv);
    s_dyx = _mm512_add_pd(s_dyx, _mm512_mul_pd(gv, _mm512_sub_pd(load8(in + n * C + c, k), m)));
  }
  s_dyx = _mm512_mul_pd(s_dyx, r);
  if (dgamma) store8(dgamma + c, k, s_dyx);
  if (dbeta) store8(dbeta + c, k, s_dy);
  if (!dx) return;
  const __m512d a = _mm512_mul_pd(g, r), mean_dy = _mm512_div_pd(s_dy, M), mean_dy_xhat = _mm512_div_pd(s_dyx, M);
  for (size_t n = 0; n < N; ++n) {
    const __m512d xhat = _mm512_mul_pd(_mm512_sub_pd(load8(in + n * C + c, k), m), r);
    const __m512d gv = load8(dy + n * C + c, relu_pass(k, relu_out ? relu_out + n * C + c : nullptr));
    const __m512d inner = _mm512_sub_pd(_mm512_sub_pd(gv, mean_dy), _mm512_mul_pd(xhat, mean_dy_xhat));
    store8(dx + n * C + c, k, _mm512_mul_pd(a, inner));
  }
}

}  // namespace

// Shifted by the channel's first value k: mean = k + s1 / M, var = (s2 - s1^2 / M) / M, the sums split
// across 8 double lanes and added in a fixed order.
ChannelMoments planes_channel_moments(const float* in, size_t c, size_t N, size_t C, size_t HW, float eps) {
  const double M = double(N * HW);
  const double k = in[c * HW];
  const __m512d vk = _mm512_set1_pd(k);
  __m512d s1 = _mm512_setzero_pd(), s2 = _mm512_setzero_pd();
  for (size_t n = 0; n < N; ++n) {
    const float* x = in + (n * C + c) * HW;
    if (n + 1 < N) prefetch(x + C * HW, HW);
    chunks8(HW, [&](size_t i, __mmask8 m) {
      const __m512d d = _mm512_maskz_sub_pd(m, load8(x + i, m), vk);
      s1 = _mm512_add_pd(s1, d);
      s2 = _mm512_fmadd_pd(d, d, s2);
    });
  }
  const double t1 = _mm512_reduce_add_pd(s1), t2 = _mm512_reduce_add_pd(s2);
  const double m = k + t1 / M;
  const double v = std::max(0.0, (t2 - t1 * t1 / M) / M);
  return {m, v, 1.0 / std::sqrt(v + double(eps))};
}

// OpenMP runs over channels (planes) or blocks of 8 channels (rows): independent outputs.
void batch_norm_planes_forward(float* out, float* mean, float* var, float* rstd, const float* in,
                               const float* gamma, const float* beta, size_t N, size_t C, size_t HW, float eps,
                               bool relu) {
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < std::int64_t(C); ++c) {
    planes_forward_channel(out, mean, var, rstd, in, gamma, beta, N, C, HW, eps, relu, size_t(c));
  }
}

void batch_norm_planes_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* in,
                                const float* mean, const float* rstd, const float* gamma, size_t N, size_t C,
                                size_t HW, const float* relu_out) {
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < std::int64_t(C); ++c) {
    planes_backward_channel(dx, dgamma, dbeta, dy, in, mean, rstd, gamma, N, C, HW, relu_out, size_t(c));
  }
}

void batch_norm_rows_forward(float* out, float* mean, float* var, float* rstd, const float* in, const float* gamma,
                             const float* beta, size_t N, size_t C, float eps, bool relu) {
#pragma omp parallel for schedule(static) if (N * C > 65536)
  for (std::int64_t c = 0; c < std::int64_t(C); c += 8) {
    rows_forward_block(out, mean, var, rstd, in, gamma, beta, N, C, eps, relu, size_t(c));
  }
}

void batch_norm_rows_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* in,
                              const float* mean, const float* rstd, const float* gamma, size_t N, size_t C,
                              const float* relu_out) {
#pragma omp parallel for schedule(static) if (N * C > 65536)
  for (std::int64_t c = 0; c < std::int64_t(C); c += 8) {
    rows_backward_block(dx, dgamma, dbeta, dy, in, mean, rstd, gamma, N, C, relu_out, size_t(c));
  }
}

}  // namespace xgrad::kernels::fast

#include "xgrad/core/kernels/avx512_end.hpp"
