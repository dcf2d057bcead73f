// The fused BatchNorm + ReLU + 2x2 max pool kernels: see batch_norm_pool.hpp. These are the portable
// twins; each step is written as batch_norm.cpp's and pool2d.cpp's portable loops write it (per-element
// arithmetic in double, rounded once; sums in double in the order of the elements; the pool's comparisons
// in window order), so their bits are those loops' bits. The AVX-512 twins are in
// batch_norm_pool_avx512.cpp.
#include "xgrad/core/kernels/batch_norm_pool.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "xgrad/core/kernels/batch_norm_moments.hpp"
#include "xgrad/core/kernels/dispatch.hpp"
#include "xgrad/core/kernels/fast_paths.hpp"

namespace xgrad::kernels {
namespace {

using std::size_t;

// relu(v) as relu() computes it: NaN passes through.
inline float relu_value(float v) { return v > 0.0f || std::isnan(v) ? v : 0.0f; }

// Rows are handled in segments of at most kSegment values, through buffers on the stack.
constexpr size_t kSegment = 1024;

// Channel c of the forward from its statistics m, r (doubles in training, the rounded running estimates in
// inference, as batch_norm.cpp's normalize_channel takes them): a segment of each of a window row's two
// input rows becomes y = relu((x - m) (r gamma) + beta) (normalize_channel's expression, a loop the
// compiler vectorizes), then each window's four values are compared in the order (0,0), (0,1), (1,0),
// (1,1), as max_pool2d_forward compares them.
void forward_channel(float* out, std::int32_t* argmax, const float* in, double m, double r, const float* gamma,
                     const float* beta, size_t c, size_t N, size_t C, size_t H, size_t W) {
  const double scale = r * (gamma ? gamma[c] : 1.0f);
  const double shift = beta ? beta[c] : 0.0f;
  const size_t OH = H / 2, OW = W / 2;
  float y[2][kSegment];
  for (size_t n = 0; n < N; ++n) {
    const float* x = in + (n * C + c) * H * W;
    const size_t o = (n * C + c) * OH * OW;
    for (size_t oh = 0; oh < OH; ++oh) {
      for (size_t w0 = 0; w0 < W; w0 += kSegment) {
        const size_t len = std::min(kSegment, W - w0);  // even: W and kSegment are
        for (size_t dh = 0; dh < 2; ++dh) {
          const float* xr = x + (2 * oh + dh) * W + w0;
          for (size_t i = 0; i < len; ++i) y[dh][i] = relu_value(static_cast<float>((xr[i] - m) * scale + shift));
        }
        for (size_t i = 0; i < len; i += 2) {
          float best = -std::numeric_limits<float>::infinity();
          size_t best_index = 0;
          for (size_t k = 0; k < 4; ++k) {
            const float v = y[k / 2][i + k % 2];
            if (v > best || std::isnan(v)) {
              best = v;
              best_index = (2 * oh + k / 2) * W + w0 + i + k % 2;
            }
          }
          const size_t win = o + oh * OW + (w0 + i) / 2;
          out[win] = best;
          if (argmax) argmax[win] = static_cast<std::int32_t>(best_index);
        }
      }
    }
  }
}

// The pooled gradient routed back through the pool and the ReLU into dy: dy[h W + w] = 0 + dout[win] if
// h W + w is window win's argmax and out[win] > 0, else +0; what the pool's backward writes into its
// zero-filled dx, masked as batch_norm.cpp's masked_dy masks it (bits cleared, no branch on the sign).
struct RoutedGrad {
  const float* dout;
  const float* out;
  const std::int32_t* argmax;
  size_t W, OW, OHW;

  // Columns [w0, w0 + len) of row h of plane `plane` into buf[0, len) (w0, len even); buf[len] is scratch
  // for the windows whose argmax is in the other row.
  void row(float* buf, size_t plane, size_t h, size_t w0, size_t len) const {
    std::fill(buf, buf + len, 0.0f);
    const size_t first = plane * OHW + (h / 2) * OW + w0 / 2;
    const auto start = static_cast<std::int64_t>(h * W + w0);
    for (size_t win = first; win < first + len / 2; ++win) {
      const auto at = static_cast<std::uint64_t>(argmax[win] - start);
      const size_t t = at < len ? at : len;
      const std::uint32_t keep = 0u - static_cast<std::uint32_t>(out[win] > 0.0f);
      buf[t] = std::bit_cast<float>(std::bit_cast<std::uint32_t>(0.0f + dout[win]) & keep);
    }
  }
};

struct GradSums {
  double dy = 0.0;       // sum(dy)
  double dy_xhat = 0.0;  // sum(dy * xhat)
};

// Calls f(dy segment, offset of the segment in the channel's data, length) over channel c, in element order.
template <class F>
void for_segments(const RoutedGrad& dy, size_t c, size_t N, size_t C, size_t H, size_t W, F&& f) {
  float buf[kSegment + 1];
  for (size_t n = 0; n < N; ++n) {
    const size_t plane = n * C + c;
    for (size_t h = 0; h < H; ++h) {
      for (size_t w0 = 0; w0 < W; w0 += kSegment) {
        const size_t len = std::min(kSegment, W - w0);
        dy.row(buf, plane, h, w0, len);
        f(static_cast<const float*>(buf), plane * H * W + h * W + w0, len);
      }
    }
  }
}

// sum(dy) and sum(dy xhat) over channel c, in element order (batch_norm.cpp's grad_sums).
GradSums grad_sums(const RoutedGrad& dy, const float* in, double mean, double rstd, size_t c, size_t N, size_t C,
                   size_t H, size_t W) {
  GradSums s;
  for_segments(dy, c, N, C, H, W, [&](const float* g, size_t at, size_t len) {
    const float* x = in + at;
    for (size_t i = 0; i < len; ++i) {
      s.dy += g[i];
      s.dy_xhat += g[i] * (x[i] - mean);
    }
  });
  s.dy_xhat *= rstd;
  return s;
}

// Channel c of the training backward (batch_norm.cpp's backward_channel):
// dx = g rstd (dy - sum(dy) / M - xhat sum(dy xhat) / M).
void backward_channel(float* dx, float* dgamma, float* dbeta, const RoutedGrad& dy, const float* in,
                      const float* mean, const float* rstd, const float* gamma, size_t c, size_t N, size_t C, size_t H,
                      size_t W) {
  const double M = static_cast<double>(N * H * W);
  const double m = mean[c], r = rstd[c], g = gamma ? gamma[c] : 1.0f;
  const GradSums s = grad_sums(dy, in, m, r, c, N, C, H, W);
  if (dgamma) dgamma[c] = static_cast<float>(s.dy_xhat);
  if (dbeta) dbeta[c] = static_cast<float>(s.dy);
  if (!dx) return;
  const double a = g * r, mean_dy = s.dy / M, mean_dy_xhat = s.dy_xhat / M;
  for_segments(dy, c, N, C, H, W, [&](const float* gy, size_t at, size_t len) {
    const float* x = in + at;
    float* d = dx + at;
    for (size_t i = 0; i < len; ++i) {
      const double xhat = (x[i] - m) * r;
      d[i] = static_cast<float>(a * (gy[i] - mean_dy - xhat * mean_dy_xhat));
    }
  });
}

// Channel c of the inference backward: dx = gamma rstd dy (batch_norm.cpp's inference_backward_channel).
void inference_backward_channel(float* dx, float* dgamma, float* dbeta, const RoutedGrad& dy, const float* in,
                                const float* mean, const float* rstd, const float* gamma, size_t c, size_t N,
                                size_t C, size_t H, size_t W) {
  if (dgamma || dbeta) {
    const GradSums s = grad_sums(dy, in, mean[c], rstd[c], c, N, C, H, W);
    if (dgamma) dgamma[c] = static_cast<float>(s.dy_xhat);
    if (dbeta) dbeta[c] = static_cast<float>(s.dy);
  }
  if (!dx) return;
  const double a = static_cast<double>(rstd[c]) * (gamma ? gamma[c] : 1.0f);
  for_segments(dy, c, N, C, H, W, [&](const float* gy, size_t at, size_t len) {
    for (size_t i = 0; i < len; ++i) dx[at + i] = static_cast<float>(a * gy[i]);
  });
}

}  // namespace

void batch_norm_relu_max_pool_forward(float* out, std::int32_t* argmax, float* mean, float* var, float* rstd,
                                      const float* in, const float* gamma, const float* beta, size_t N, size_t C,
                                      size_t H, size_t W, float eps) {
  if (batch_norm_max_pool_path(N, H, W) == KernelPath::Avx512) {
    return fast::batch_norm_relu_max_pool_forward(out, argmax, mean, var, rstd, in, gamma, beta, N, C, H, W, eps);
  }
#pragma omp parallel for schedule(static)
  for (std::int64_t ci = 0; ci < static_cast<std::int64_t>(C); ++ci) {
    const auto c = static_cast<size_t>(ci);
    const ChannelMoments s = channel_moments(in, c, N, C, H * W, eps);
    mean[c] = static_cast<float>(s.mean);
    var[c] = static_cast<float>(s.var);
    rstd[c] = static_cast<float>(s.rstd);
    forward_channel(out, argmax, in, s.mean, s.rstd, gamma, beta, c, N, C, H, W);
  }
}

void batch_norm_relu_max_pool_backward(float* dx, float* dgamma, float* dbeta, const float* dout, const float* out,
                                       const std::int32_t* argmax, const float* in, const float* mean,
                                       const float* rstd, const float* gamma, size_t N, size_t C, size_t H,
                                       size_t W) {
  if (batch_norm_max_pool_path(N, H, W) == KernelPath::Avx512) {
    return fast::batch_norm_relu_max_pool_backward(dx, dgamma, dbeta, dout, out, argmax, in, mean, rstd, gamma, N,
                                                   C, H, W);
  }
  const RoutedGrad dy{dout, out, argmax, W, W / 2, (H / 2) * (W / 2)};
#pragma omp parallel for schedule(static)
  for (std::int64_t ci = 0; ci < static_cast<std::int64_t>(C); ++ci) {
    backward_channel(dx, dgamma, dbeta, dy, in, mean, rstd, gamma, static_cast<size_t>(ci), N, C, H, W);
  }
}

// The unfused inference (batch_norm_inference) has only the portable loops; so has this, to keep its bits.
void batch_norm_relu_max_pool_inference(float* out, std::int32_t* argmax, const float* in, const float* mean,
                                        const float* rstd, const float* gamma, const float* beta, size_t N,
                                        size_t C, size_t H, size_t W) {
#pragma omp parallel for schedule(static)
  for (std::int64_t ci = 0; ci < static_cast<std::int64_t>(C); ++ci) {
    const auto c = static_cast<size_t>(ci);
    forward_channel(out, argmax, in, mean[c], rstd[c], gamma, beta, c, N, C, H, W);
  }
}

void batch_norm_relu_max_pool_inference_backward(float* dx, float* dgamma, float* dbeta, const float* dout,
                                                 const float* out, const std::int32_t* argmax, const float* in,
                                                 const float* mean, const float* rstd, const float* gamma, size_t N,
                                                 size_t C, size_t H, size_t W) {
  const RoutedGrad dy{dout, out, argmax, W, W / 2, (H / 2) * (W / 2)};
#pragma omp parallel for schedule(static)
  for (std::int64_t ci = 0; ci < static_cast<std::int64_t>(C); ++ci) {
    inference_backward_channel(dx, dgamma, dbeta, dy, in, mean, rstd, gamma, static_cast<size_t>(ci), N, C, H, W);
  }
}

}  // namespace xgrad::kernels
