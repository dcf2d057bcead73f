// conv2d kernels: see conv2d.hpp. Each sample is unfolded by im2col into col (C KH KW, OH OW), so the
// convolution is one GEMM per sample; col2im folds a column gradient back, adding overlapping taps.
// A 1x1 kernel with stride 1 and no padding needs no unfolding: col is the input itself.
#include "xgrad/core/kernels/conv2d.hpp"

#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "xgrad/core/kernels/conv2d_fast.hpp"
#include "xgrad/core/kernels/conv2d_unfold.hpp"
#include "xgrad/core/kernels/gemm.hpp"

namespace xgrad::kernels {
namespace {

// The weight gradient's batch is cut into at most this many chunks, whatever the thread count, so its
// partial sums (and so its result) do not depend on how many threads ran.
constexpr int kWeightChunks = 16;

using std::size_t;

// Threads over the batch when there are several samples and enough work to repay a parallel region
// (2^18 multiply-adds, some tens of microseconds). Otherwise the loop runs on one thread outside any
// parallel region, so OpenBLAS may thread a large single-sample GEMM itself.
bool batch_threads(const Conv2dDims& d, int samples) {
  const std::int64_t madds = std::int64_t(d.N) * d.O * d.C * d.KH * d.KW * d.OH * d.OW;
  return samples > 1 && madds >= (std::int64_t(1) << 18);
}

// One im2col buffer per thread that may run; samples are independent, so any thread may take any one.
std::unique_ptr<float[]> col_buffers(const Conv2dDims& d, bool parallel) {
  if (is_pointwise(d)) return nullptr;
  const size_t threads = parallel ? size_t(omp_get_max_threads()) : 1;
  return std::unique_ptr<float[]>(new float[threads * d.C * d.KH * d.KW * d.OH * d.OW]);
}

}  // namespace

void conv2d_forward_reference(float* out, const float* in, const float* weight, const float* bias,
                              const Conv2dDims& d) {
  const int K = d.C * d.KH * d.KW, P = d.OH * d.OW;
  const size_t in_size = size_t(d.C) * d.H * d.W, out_size = size_t(d.O) * P;
  const bool parallel = batch_threads(d, d.N);
  const std::unique_ptr<float[]> cols = col_buffers(d, parallel);
  // out_n (O, P) = weight (O, K) col_n (K, P) + bias: the bias is written first and the GEMM adds to it.
#pragma omp parallel for schedule(static) if (parallel)
  for (int n = 0; n < d.N; ++n) {
    const float* col = in + n * in_size;
    if (cols) {
      float* buffer = cols.get() + size_t(omp_get_thread_num()) * K * P;
      im2col(buffer, col, d);
      col = buffer;
    }
    float* y = out + n * out_size;
    if (bias) {
      for (int o = 0; o < d.O; ++o) std::fill(y + size_t(o) * P, y + size_t(o + 1) * P, bias[o]);
    }
    gemm(false, false, d.O, P, K, 1.0f, weight, K, col, P, bias ? 1.0f : 0.0f, y, P);
  }
}

void conv2d_backward_input_reference(float* din, const float* dout, const float* weight, const Conv2dDims& d) {
  const int K = d.C * d.KH * d.KW, P = d.OH * d.OW;
  const size_t in_size = size_t(d.C) * d.H * d.W, out_size = size_t(d.O) * P;
  const bool parallel = batch_threads(d, d.N);
  const std::unique_ptr<float[]> cols = col_buffers(d, parallel);
  // dcol_n (K, P) = weight^T (K, O) dout_n (O, P); din_n = col2im(dcol_n).
#pragma omp parallel for schedule(static) if (parallel)
  for (int n = 0; n < d.N; ++n) {
    float* dx = din + n * in_size;
    float* dcol = cols ? cols.get() + size_t(omp_get_thread_num()) * K * P : dx;
    gemm(true, false, K, P, d.O, 1.0f, weight, K, dout + n * out_size, P, 0.0f, dcol, P);
    if (cols) col2im(dx, dcol, d);
  }
}

void conv2d_backward_weight_reference(float* dweight, const float* dout, const float* in, const Conv2dDims& d) {
  const int K = d.C * d.KH * d.KW, P = d.OH * d.OW;
  const size_t in_size = size_t(d.C) * d.H * d.W, out_size = size_t(d.O) * P, w_size = size_t(d.O) * K;
  const int chunks = std::min(d.N, kWeightChunks);
  const bool parallel = batch_threads(d, chunks);
  const std::unique_ptr<float[]> cols = col_buffers(d, parallel);
  const std::unique_ptr<float[]> partial(new float[size_t(chunks) * w_size]);
  // partial_c (O, K) = sum over the chunk's samples n of dout_n (O, P) col_n^T (P, K).
#pragma omp parallel for schedule(static) if (parallel)
  for (int c = 0; c < chunks; ++c) {
    const int begin = int(std::int64_t(d.N) * c / chunks), end = int(std::int64_t(d.N) * (c + 1) / chunks);
    float* acc = partial.get() + c * w_size;
    for (int n = begin; n < end; ++n) {
      const float* col = in + n * in_size;
      if (cols) {
        float* buffer = cols.get() + size_t(omp_get_thread_num()) * K * P;
        im2col(buffer, col, d);
        col = buffer;
      }
      gemm(false, true, d.O, K, P, 1.0f, dout + n * out_size, P, col, P, n == begin ? 0.0f : 1.0f, acc, K);
    }
  }
  // dweight = sum of the chunks' partials in chunk order, in double.
#pragma omp parallel for schedule(static) if (w_size * chunks > 65536)
  for (size_t i = 0; i < w_size; ++i) {
    double sum = 0.0;
    for (int c = 0; c < chunks; ++c) sum += partial[c * w_size + i];
    dweight[i] = static_cast<float>(sum);
  }
}

void conv2d_backward_bias(float* dbias, const float* dout, const Conv2dDims& d) {
  const size_t P = size_t(d.OH) * d.OW;
  // dbias[o] = sum over n, p of dout[n, o, p]. Four running sums break the chain of dependent adds.
#pragma omp parallel for schedule(static) if (size_t(d.N) * d.O * P > 65536)
  for (int o = 0; o < d.O; ++o) {
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    for (int n = 0; n < d.N; ++n) {
      const float* g = dout + (size_t(n) * d.O + o) * P;
      size_t p = 0;
      for (; p + 4 <= P; p += 4) {
        s0 += g[p];
        s1 += g[p + 1];
        s2 += g[p + 2];
        s3 += g[p + 3];
      }
      for (; p < P; ++p) s0 += g[p];
    }
    dbias[o] = static_cast<float>((s0 + s1) + (s2 + s3));
  }
}

// The AVX-512 twin's buffers and entry points; its passes are in conv2d_avx512.cpp.
std::size_t conv2d_padded_input_size(const Conv2dDims& d) { return size_t(d.N) * fast::geometry(d).in_image; }

std::size_t conv2d_workspace_size(const Conv2dDims& d) {
  const fast::Geometry g = fast::geometry(d);
  auto up = [](size_t n) { return (n + 15) / 16 * 16; };
  auto slots = [&](int rows, int width) {  // a slot is 3 floats' worth (two offsets and a mask)
    return up(size_t(rows) * ((width + fast::kLanes - 1) / fast::kLanes)) * 3;
  };
  const size_t T = size_t(d.KH) * d.KW, K = size_t(d.C) * T, KO = size_t(d.O) * T;
  const size_t threads = size_t(omp_get_max_threads());
  const size_t forward = size_t((d.O + 7) / 8) * K * 8 + up(K) + slots(d.OH, d.OW) + threads * up(g.in_image);
  const size_t input = size_t((d.C + 7) / 8) * KO * 8 + up(KO) + slots(d.H, d.W) + threads * up(g.dout_image);
  const size_t transposed = fast::weight_by_outer_products(d) ? size_t(d.N) * d.OH * d.OW * d.O : 0;
  const size_t weight = up(K) + slots(d.OH, d.OW) + size_t(fast::weight_chunks(d)) * d.O * K +
                        transposed;
  return std::max({forward, input, weight});
}

void conv2d_forward_avx512(float* out, float* xpad, const float* in, const float* weight, const float* bias,
                           float* workspace, const Conv2dDims& d) {
  fast::forward(out, xpad, in, weight, bias, workspace, d);
}

void conv2d_backward_input_avx512(float* din, const float* dout, const float* weight, float* workspace,
                                  const Conv2dDims& d) {
  fast::backward_input(din, dout, weight, workspace, d);
}

void conv2d_backward_weight_avx512(float* dweight, const float* dout, const float* xpad, float* workspace,
                                   const Conv2dDims& d) {
  fast::backward_weight(dweight, dout, xpad, workspace, d);
}

// The dispatched entry points: the plan's twin.
Conv2dPlan conv2d_plan(const Conv2dDims& d) {
  if (conv2d_path(d) == KernelPath::Reference) return {KernelPath::Reference, 0, 0};
  return {KernelPath::Avx512, conv2d_padded_input_size(d), conv2d_workspace_size(d)};
}

void conv2d_forward(const Conv2dPlan& plan, float* out, float* saved, const float* in, const float* weight,
                    const float* bias, float* workspace, const Conv2dDims& d) {
  if (plan.path == KernelPath::Avx512) return conv2d_forward_avx512(out, saved, in, weight, bias, workspace, d);
  conv2d_forward_reference(out, in, weight, bias, d);
}

void conv2d_backward_input(const Conv2dPlan& plan, float* din, const float* dout, const float* weight,
                           float* workspace, const Conv2dDims& d) {
  if (plan.path == KernelPath::Avx512) return conv2d_backward_input_avx512(din, dout, weight, workspace, d);
  conv2d_backward_input_reference(din, dout, weight, d);
}

void conv2d_backward_weight(const Conv2dPlan& plan, float* dweight, const float* dout, const float* in,
                            const float* saved, float* workspace, const Conv2dDims& d) {
  if (plan.path == KernelPath::Avx512) return conv2d_backward_weight_avx512(dweight, dout, saved, workspace, d);
  conv2d_backward_weight_reference(dweight, dout, in, d);
}

}  // namespace xgrad::kernels
