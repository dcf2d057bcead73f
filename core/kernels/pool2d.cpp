// pool2d kernels: see pool2d.hpp. Every (n, c) plane is independent, so OpenMP runs over planes and each
// output is computed by one thread in a fixed order: results do not depend on the thread count.
#include "xgrad/core/kernels/pool2d.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "xgrad/core/kernels/dispatch.hpp"
#include "xgrad/core/kernels/fast_paths.hpp"

namespace xgrad::kernels {
namespace {

using std::size_t;

// The part [lo, hi) of window o that lies inside an input axis of length size (the rest is padding).
struct Span {
  int lo, hi;
};
Span span(int o, int stride, int pad, int kernel, int size) {
  const int start = o * stride - pad;
  return {std::max(start, 0), std::min(start + kernel, size)};
}

// Below this many window reads, a parallel region costs more than it saves.
bool worth_threads(const Pool2dDims& d) {
  return size_t(d.N) * d.C * d.OH * d.OW * d.KH * d.KW > 32768;
}

}  // namespace

void max_pool2d_forward(float* out, std::int32_t* argmax, const float* in, const Pool2dDims& d) {
  const int planes = d.N * d.C;
  if (max_pool2d_path(d) == KernelPath::Avx512) return fast::max_pool2x2_forward(out, argmax, in, planes, d.H, d.W);
  // out[p, oh, ow] = max over the window's inside of in[p, h, w]; argmax the first h W + w reaching it.
#pragma omp parallel for schedule(static) if (worth_threads(d))
  for (int p = 0; p < planes; ++p) {
    const float* x = in + size_t(p) * d.H * d.W;
    const size_t base = size_t(p) * d.OH * d.OW;
    for (int oh = 0; oh < d.OH; ++oh) {
      const Span sh = span(oh, d.SH, d.PH, d.KH, d.H);
      for (int ow = 0; ow < d.OW; ++ow) {
        const Span sw = span(ow, d.SW, d.PW, d.KW, d.W);
        float best = -std::numeric_limits<float>::infinity();
        int best_index = sh.lo * d.W + sw.lo;
        for (int h = sh.lo; h < sh.hi; ++h) {
          for (int w = sw.lo; w < sw.hi; ++w) {
            const float v = x[h * d.W + w];
            if (v > best || std::isnan(v)) {  // PyTorch's test: a NaN propagates
              best = v;
              best_index = h * d.W + w;
            }
          }
        }
        const size_t i = base + size_t(oh) * d.OW + ow;
        out[i] = best;
        if (argmax) argmax[i] = best_index;
      }
    }
  }
}

void max_pool2d_backward(float* din, const float* dout, const std::int32_t* argmax, const Pool2dDims& d) {
  const int planes = d.N * d.C;
  const size_t in_plane = size_t(d.H) * d.W, out_plane = size_t(d.OH) * d.OW;
  // din[p, argmax[p, i]] += dout[p, i], in output order.
#pragma omp parallel for schedule(static) if (worth_threads(d))
  for (int p = 0; p < planes; ++p) {
    float* dx = din + p * in_plane;
    const float* g = dout + p * out_plane;
    const std::int32_t* a = argmax + p * out_plane;
    std::fill(dx, dx + in_plane, 0.0f);
    for (size_t i = 0; i < out_plane; ++i) dx[a[i]] += g[i];
  }
}

void avg_pool2d_forward(float* out, const float* in, const Pool2dDims& d) {
  const int planes = d.N * d.C;
  // Without ceil_mode no window reaches past the padded input, so count_include_pad's divisor is KH KW.
  const float divisor = float(d.KH * d.KW);
  // out[p, oh, ow] = (sum over the window's inside of in[p, h, w]) / (KH KW), summed in float like PyTorch.
#pragma omp parallel for schedule(static) if (worth_threads(d))
  for (int p = 0; p < planes; ++p) {
    const float* x = in + size_t(p) * d.H * d.W;
    float* y = out + size_t(p) * d.OH * d.OW;
    for (int oh = 0; oh < d.OH; ++oh) {
      const Span sh = span(oh, d.SH, d.PH, d.KH, d.H);
      for (int ow = 0; ow < d.OW; ++ow) {
        const Span sw = span(ow, d.SW, d.PW, d.KW, d.W);
        float sum = 0.0f;
        for (int h = sh.lo; h < sh.hi; ++h) {
          for (int w = sw.lo; w < sw.hi; ++w) sum += x[h * d.W + w];
        }
        y[oh * d.OW + ow] = sum / divisor;
      }
    }
  }
}

void avg_pool2d_backward(float* din, const float* dout, const Pool2dDims& d) {
  const int planes = d.N * d.C;
  const float divisor = float(d.KH * d.KW);
  // din[p, h, w] = sum over the windows holding (h, w) of dout[p, oh, ow] / (KH KW), in output order.
#pragma omp parallel for schedule(static) if (worth_threads(d))
  for (int p = 0; p < planes; ++p) {
    float* dx = din + size_t(p) * d.H * d.W;
    const float* g = dout + size_t(p) * d.OH * d.OW;
    std::fill(dx, dx + size_t(d.H) * d.W, 0.0f);
    for (int oh = 0; oh < d.OH; ++oh) {
      const Span sh = span(oh, d.SH, d.PH, d.KH, d.H);
      for (int ow = 0; ow < d.OW; ++ow) {
        const Span sw = span(ow, d.SW, d.PW, d.KW, d.W);
        const float share = g[oh * d.OW + ow] / divisor;
        for (int h = sh.lo; h < sh.hi; ++h) {
          for (int w = sw.lo; w < sw.hi; ++w) dx[h * d.W + w] += share;
        }
      }
    }
  }
}

}  // namespace xgrad::kernels
