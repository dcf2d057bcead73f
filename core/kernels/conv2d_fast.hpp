// The geometry of the fast convolution path, shared by conv2d.cpp (portable: sizes, selection) and
// conv2d_avx512.cpp (the AVX-512 loops). Internal to core/kernels.
//
// Stride 1, dilation 1: out[o, oh, ow] = sum over (c, kh, kw) of w[o, c, kh, kw] xpad[c, oh + kh, ow + kw],
// where xpad is the input with its zero padding written out, rows of Wp = W + 2 PW values. Each output row
// is computed in chunks of 16 along ow, reading 16 consecutive xpad values per tap: the convolution is a
// sum of shifted rows, with no im2col buffer. The input gradient is the same loop over the output
// gradient padded by the kernel size less one less the padding, with the kernel flipped.
#pragma once
#include <cstddef>

#include "xgrad/core/kernels/conv2d.hpp"

namespace xgrad::kernels::fast {

constexpr int kLanes = 16;  // floats in an AVX-512 register
constexpr int kSlack = 32;  // readable floats past an image's padded planes (the last chunk's overreach)
// The weight gradient's batch is cut into this many chunks whatever the thread count, so its partial
// sums, and so its result, do not depend on how many threads ran.
constexpr int kWeightChunks = 16;

struct Geometry {
  int Hp, Wp;             // padded input plane
  std::size_t in_image;   // floats per padded input image: C Hp Wp + slack
  int Hq, Wq;             // padded output-gradient plane (input-gradient pass)
  std::size_t dout_image; // floats per padded output-gradient image: O Hq Wq + slack
};

inline Geometry geometry(const Conv2dDims& d) {
  Geometry g{};
  g.Hp = d.H + 2 * d.PH;
  g.Wp = d.W + 2 * d.PW;
  g.in_image = std::size_t(d.C) * g.Hp * g.Wp + kSlack;
  g.Hq = d.OH + 2 * (d.KH - 1 - d.PH);
  g.Wq = d.OW + 2 * (d.KW - 1 - d.PW);
  g.dout_image = std::size_t(d.O) * g.Hq * g.Wq + kSlack;
  return g;
}

// The AVX-512 passes (conv2d_avx512.cpp); callers check conv2d_fast_path first.
void forward(float* out, float* xpad, const float* in, const float* weight, const float* bias, float* workspace,
             const Conv2dDims& d);
void backward_input(float* din, const float* dout, const float* weight, float* workspace, const Conv2dDims& d);
void backward_weight(float* dweight, const float* dout, const float* xpad, float* workspace, const Conv2dDims& d);

}  // namespace xgrad::kernels::fast
