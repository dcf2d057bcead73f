// im2col and col2im, the unfolding behind the GEMM convolutions (conv2d.cpp for groups = 1,
// conv2d_grouped.cpp per group), for the kernels' own files only: internal linkage, like the file-local
// functions they were, so each file's code generation is what it was (a shared non-static copy would
// inline differently).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "xgrad/core/kernels/conv2d.hpp"

namespace xgrad::kernels {
namespace {

// The output positions o in [lo, hi) whose kernel tap reads inside the input: 0 <= o S + off < size,
// with off = k D - P the tap's offset. Outside this range the tap reads zero padding.
struct Range {
  int lo, hi;
};
Range valid_range(int size, int out_size, int stride, int off) {
  const int lo = std::min(off >= 0 ? 0 : (-off + stride - 1) / stride, out_size);
  const int hi = off > size - 1 ? 0 : (size - 1 - off) / stride + 1;
  return {lo, std::clamp(hi, lo, out_size)};
}

// A 1x1 kernel at stride 1 without padding: the input is its own col, no unfolding needed.
bool is_pointwise(const Conv2dDims& d) {
  return d.KH == 1 && d.KW == 1 && d.SH == 1 && d.SW == 1 && d.PH == 0 && d.PW == 0;
}

// col (C KH KW, OH OW): col[(c, kh, kw), (oh, ow)] = in[c, oh SH + kh DH - PH, ow SW + kw DW - PW], or 0 in
// the padding. in is one sample (C, H, W).
void im2col(float* col, const float* in, const Conv2dDims& d) {
  const std::size_t P = std::size_t(d.OH) * d.OW;
  for (int c = 0; c < d.C; ++c) {
    const float* plane = in + std::size_t(c) * d.H * d.W;
    for (int kh = 0; kh < d.KH; ++kh) {
      const int off_h = kh * d.DH - d.PH;
      const Range rh = valid_range(d.H, d.OH, d.SH, off_h);
      for (int kw = 0; kw < d.KW; ++kw) {
        const int off_w = kw * d.DW - d.PW;
        const Range rw = valid_range(d.W, d.OW, d.SW, off_w);
        float* row = col + ((std::size_t(c) * d.KH + kh) * d.KW + kw) * P;
        std::fill(row, row + std::size_t(rh.lo) * d.OW, 0.0f);
        std::fill(row + std::size_t(rh.hi) * d.OW, row + P, 0.0f);
        for (int oh = rh.lo; oh < rh.hi; ++oh) {
          float* r = row + std::size_t(oh) * d.OW;
          const float* src = plane + std::size_t(oh * d.SH + off_h) * d.W + off_w;  // src[ow SW] for valid ow
          std::fill(r, r + rw.lo, 0.0f);
          if (d.SW == 1) {
            std::memcpy(r + rw.lo, src + rw.lo, std::size_t(rw.hi - rw.lo) * sizeof(float));
          } else {
            for (int ow = rw.lo; ow < rw.hi; ++ow) r[ow] = src[std::size_t(ow) * d.SW];
          }
          std::fill(r + rw.hi, r + d.OW, 0.0f);
        }
      }
    }
  }
}

// The adjoint of im2col: din (C, H, W) = sum over taps of dcol scattered back to where im2col read it.
// Each input element sums its taps in (kh, kw, oh, ow) order: deterministic.
void col2im(float* din, const float* dcol, const Conv2dDims& d) {
  const std::size_t P = std::size_t(d.OH) * d.OW;
  std::fill(din, din + std::size_t(d.C) * d.H * d.W, 0.0f);
  for (int c = 0; c < d.C; ++c) {
    float* plane = din + std::size_t(c) * d.H * d.W;
    for (int kh = 0; kh < d.KH; ++kh) {
      const int off_h = kh * d.DH - d.PH;
      const Range rh = valid_range(d.H, d.OH, d.SH, off_h);
      for (int kw = 0; kw < d.KW; ++kw) {
        const int off_w = kw * d.DW - d.PW;
        const Range rw = valid_range(d.W, d.OW, d.SW, off_w);
        const float* row = dcol + ((std::size_t(c) * d.KH + kh) * d.KW + kw) * P;
        for (int oh = rh.lo; oh < rh.hi; ++oh) {
          const float* r = row + std::size_t(oh) * d.OW;
          float* dst = plane + std::size_t(oh * d.SH + off_h) * d.W + off_w;
          if (d.SW == 1) {
            for (int ow = rw.lo; ow < rw.hi; ++ow) dst[ow] += r[ow];
          } else {
            for (int ow = rw.lo; ow < rw.hi; ++ow) dst[std::size_t(ow) * d.SW] += r[ow];
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace xgrad::kernels
