// Grouped convolution kernels: see conv2d_grouped.hpp. For sample n and group g, with K = C KH KW and
// P = OH OW (C, O of one group):
//   col = im2col(in[n, g C : (g+1) C])                       (K, P)
//   out[n, g O : (g+1) O] = weight[g O : (g+1) O] col + bias   (O, K) (K, P)
//   dcol = weight_g^T dout_g, din_g = col2im(dcol)            (K, O) (O, P)
//   dweight_g = sum over n of dout_g col^T                    (O, P) (P, K)
// A 1x1 kernel at stride 1 without padding needs no unfolding: col is the group's input planes.
#include "xgrad/core/kernels/conv2d_grouped.hpp"

#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "xgrad/core/kernels/conv2d_unfold.hpp"
#include "xgrad/core/kernels/gemm.hpp"
#include "xgrad/core/storage_pool.hpp"

namespace xgrad::kernels {
namespace {

using std::size_t;

// Chunks of the weight gradient's batch, whatever the thread count (as conv2d.cpp's).
constexpr int kGroupedWeightChunks = 16;

// Threads over the work items when there are several and enough multiply-adds (2^18) to repay a region.
bool grouped_threads(const Conv2dDims& d, int groups, int items) {
  const std::int64_t madds = std::int64_t(d.N) * groups * d.O * d.C * d.KH * d.KW * d.OH * d.OW;
  return items > 1 && madds >= (std::int64_t(1) << 18);
}

// One (K, P) unfolding buffer per thread that may run; none for a pointwise kernel.
PoolArray col_buffers(const Conv2dDims& d, bool parallel) {
  if (is_pointwise(d)) return nullptr;
  const size_t threads = parallel ? size_t(omp_get_max_threads()) : 1;
  return pool_array(threads * d.C * d.KH * d.KW * d.OH * d.OW);
}

// Depthwise (one input channel per group, d.C == 1, d.O = M filters per channel): direct loops over each
// plane, no unfolding and no GEMM, whose fixed costs dominate a 1 x KH KW by KH KW x P product. Output plane
// q = (n groups + g) M + j reads input plane q / M with filter g M + j = q mod (groups M).
//   out[q, oh, ow] = bias[oc] + sum over taps (kh, kw), in that order, of w[oc, kh, kw] in[q / M, oh SH + kh DH - PH, ...]
void depthwise_forward(float* out, const float* in, const float* weight, const float* bias, const Conv2dDims& d,
                       int groups) {
  const size_t HW = size_t(d.H) * d.W, P = size_t(d.OH) * d.OW, T = size_t(d.KH) * d.KW;
  const int channels = groups * d.O, planes = d.N * channels;
#pragma omp parallel for schedule(static) if (grouped_threads(d, groups, planes))
  for (int q = 0; q < planes; ++q) {
    const int oc = q % channels;
    const float* x = in + size_t(q / d.O) * HW;
    const float* w = weight + size_t(oc) * T;
    float* y = out + size_t(q) * P;
    std::fill(y, y + P, bias ? bias[oc] : 0.0f);
    for (int kh = 0; kh < d.KH; ++kh) {
      const int off_h = kh * d.DH - d.PH;
      const Range rh = valid_range(d.H, d.OH, d.SH, off_h);
      for (int kw = 0; kw < d.KW; ++kw) {
        const int off_w = kw * d.DW - d.PW;
        const Range rw = valid_range(d.W, d.OW, d.SW, off_w);
        const float wv = w[kh * d.KW + kw];
        for (int oh = rh.lo; oh < rh.hi; ++oh) {
          float* r = y + size_t(oh) * d.OW;
          const float* src = x + size_t(oh * d.SH + off_h) * d.W + off_w;  // src[ow SW] for valid ow
          if (d.SW == 1) {
            for (int ow = rw.lo; ow < rw.hi; ++ow) r[ow] += wv * src[ow];
          } else {
            for (int ow = rw.lo; ow < rw.hi; ++ow) r[ow] += wv * src[size_t(ow) * d.SW];
          }
        }
      }
    }
  }
}

// din[p] (p = n groups + g) = sum over its M filters j, then taps, of w[g M + j, kh, kw] scattered dout[p M + j].
void depthwise_backward_input(float* din, const float* dout, const float* weight, const Conv2dDims& d, int groups) {
  const size_t HW = size_t(d.H) * d.W, P = size_t(d.OH) * d.OW, T = size_t(d.KH) * d.KW;
  const int planes = d.N * groups;
#pragma omp parallel for schedule(static) if (grouped_threads(d, groups, planes))
  for (int p = 0; p < planes; ++p) {
    float* dx = din + size_t(p) * HW;
    std::fill(dx, dx + HW, 0.0f);
    for (int j = 0; j < d.O; ++j) {
      const int oc = (p % groups) * d.O + j;
      const float* g = dout + (size_t(p) * d.O + j) * P;
      const float* w = weight + size_t(oc) * T;
      for (int kh = 0; kh < d.KH; ++kh) {
        const int off_h = kh * d.DH - d.PH;
        const Range rh = valid_range(d.H, d.OH, d.SH, off_h);
        for (int kw = 0; kw < d.KW; ++kw) {
          const int off_w = kw * d.DW - d.PW;
          const Range rw = valid_range(d.W, d.OW, d.SW, off_w);
          const float wv = w[kh * d.KW + kw];
          for (int oh = rh.lo; oh < rh.hi; ++oh) {
            const float* r = g + size_t(oh) * d.OW;
            float* dst = dx + size_t(oh * d.SH + off_h) * d.W + off_w;
            if (d.SW == 1) {
              for (int ow = rw.lo; ow < rw.hi; ++ow) dst[ow] += wv * r[ow];
            } else {
              for (int ow = rw.lo; ow < rw.hi; ++ow) dst[size_t(ow) * d.SW] += wv * r[ow];
            }
          }
        }
      }
    }
  }
}

// dw[oc, kh, kw] = sum over n (in order), oh, ow of dout[n, oc, oh, ow] in[n, oc / M, ...], in double. One
// thread per filter: the result does not depend on the thread count.
void depthwise_backward_weight(float* dweight, const float* dout, const float* in, const Conv2dDims& d, int groups) {
  const size_t HW = size_t(d.H) * d.W, P = size_t(d.OH) * d.OW;
  const int channels = groups * d.O;
#pragma omp parallel for schedule(static) if (grouped_threads(d, groups, channels))
  for (int oc = 0; oc < channels; ++oc) {
    for (int kh = 0; kh < d.KH; ++kh) {
      const int off_h = kh * d.DH - d.PH;
      const Range rh = valid_range(d.H, d.OH, d.SH, off_h);
      for (int kw = 0; kw < d.KW; ++kw) {
        const int off_w = kw * d.DW - d.PW;
        const Range rw = valid_range(d.W, d.OW, d.SW, off_w);
        double sum = 0.0;
        for (int n = 0; n < d.N; ++n) {
          const float* g = dout + (size_t(n) * channels + oc) * P;
          const float* x = in + (size_t(n) * groups + oc / d.O) * HW;
          for (int oh = rh.lo; oh < rh.hi; ++oh) {
            const float* r = g + size_t(oh) * d.OW;
            const float* src = x + size_t(oh * d.SH + off_h) * d.W + off_w;
            float row = 0.0f;  // one row in float, the rows in double
            for (int ow = rw.lo; ow < rw.hi; ++ow) row += r[ow] * src[size_t(ow) * d.SW];
            sum += row;
          }
        }
        dweight[(size_t(oc) * d.KH + kh) * d.KW + kw] = static_cast<float>(sum);
      }
    }
  }
}

}  // namespace

void conv2d_grouped_forward(float* out, const float* in, const float* weight, const float* bias, const Conv2dDims& d,
                            int groups) {
  if (d.C == 1) return depthwise_forward(out, in, weight, bias, d, groups);
  const int K = d.C * d.KH * d.KW, P = d.OH * d.OW, items = d.N * groups;
  const size_t in_block = size_t(d.C) * d.H * d.W, out_block = size_t(d.O) * P, w_block = size_t(d.O) * K;
  const bool parallel = grouped_threads(d, groups, items);
  const PoolArray cols = col_buffers(d, parallel);
  // Item i = n groups + g: its input and output blocks are the i-th of their tensors.
#pragma omp parallel for schedule(static) if (parallel)
  for (int i = 0; i < items; ++i) {
    const int g = i % groups;
    const float* col = in + size_t(i) * in_block;
    if (cols) {
      float* buffer = cols.get() + size_t(omp_get_thread_num()) * K * P;
      im2col(buffer, col, d);
      col = buffer;
    }
    float* y = out + size_t(i) * out_block;
    if (bias) {
      for (int o = 0; o < d.O; ++o) std::fill(y + size_t(o) * P, y + size_t(o + 1) * P, bias[g * d.O + o]);
    }
    gemm(false, false, d.O, P, K, 1.0f, weight + g * w_block, K, col, P, bias ? 1.0f : 0.0f, y, P);
  }
}

void conv2d_grouped_backward_input(float* din, const float* dout, const float* weight, const Conv2dDims& d,
                                   int groups) {
  if (d.C == 1) return depthwise_backward_input(din, dout, weight, d, groups);
  const int K = d.C * d.KH * d.KW, P = d.OH * d.OW, items = d.N * groups;
  const size_t in_block = size_t(d.C) * d.H * d.W, out_block = size_t(d.O) * P, w_block = size_t(d.O) * K;
  const bool parallel = grouped_threads(d, groups, items);
  const PoolArray cols = col_buffers(d, parallel);
#pragma omp parallel for schedule(static) if (parallel)
  for (int i = 0; i < items; ++i) {
    const int g = i % groups;
    float* dx = din + size_t(i) * in_block;
    float* dcol = cols ? cols.get() + size_t(omp_get_thread_num()) * K * P : dx;
    gemm(true, false, K, P, d.O, 1.0f, weight + g * w_block, K, dout + size_t(i) * out_block, P, 0.0f, dcol, P);
    if (cols) col2im(dx, dcol, d);
  }
}

void conv2d_grouped_backward_weight(float* dweight, const float* dout, const float* in, const Conv2dDims& d,
                                    int groups) {
  if (d.C == 1) return depthwise_backward_weight(dweight, dout, in, d, groups);
  const int K = d.C * d.KH * d.KW, P = d.OH * d.OW;
  const size_t in_block = size_t(d.C) * d.H * d.W, out_block = size_t(d.O) * P, w_block = size_t(d.O) * K;
  const size_t w_size = w_block * groups;
  const int chunks = std::min(d.N, kGroupedWeightChunks), items = chunks * groups;
  const bool parallel = grouped_threads(d, groups, items);
  const PoolArray cols = col_buffers(d, parallel);
  const PoolArray partial = pool_array(size_t(chunks) * w_size);
  // partial_c[g] (O, K) = sum over the chunk's samples n, in order, of dout_(n,g) col_(n,g)^T.
#pragma omp parallel for schedule(static) if (parallel)
  for (int i = 0; i < items; ++i) {
    const int c = i / groups, g = i % groups;
    const int begin = int(std::int64_t(d.N) * c / chunks), end = int(std::int64_t(d.N) * (c + 1) / chunks);
    float* acc = partial.get() + c * w_size + g * w_block;
    for (int n = begin; n < end; ++n) {
      const size_t block = size_t(n) * groups + g;
      const float* col = in + block * in_block;
      if (cols) {
        float* buffer = cols.get() + size_t(omp_get_thread_num()) * K * P;
        im2col(buffer, col, d);
        col = buffer;
      }
      gemm(false, true, d.O, K, P, 1.0f, dout + block * out_block, P, col, P, n == begin ? 0.0f : 1.0f, acc, K);
    }
  }
  // dweight = sum of the chunks' partials in chunk order, in double.
#pragma omp parallel for schedule(static) if (w_size * chunks > 65536)
  for (size_t j = 0; j < w_size; ++j) {
    double sum = 0.0;
    for (int c = 0; c < chunks; ++c) sum += partial[c * w_size + j];
    dweight[j] = static_cast<float>(sum);
  }
}

}  // namespace xgrad::kernels
