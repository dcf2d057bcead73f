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

// How the weight gradient runs. By dot products (dots_tile): 16 positions of one output row per vector,
// both operands loaded per position, and an output 8 wide leaves half the lanes idle, one 4 wide three
// quarters. By outer products (outer_tile): 16 or 32 output channels per vector times 12 taps
// broadcast, one position at a time, every lane busy whatever the width, from a copy of the output
// gradient with the channels last. Measured on one thread, batch 128 (ms per call, dots -> outer):
// ResNet-9's 64 x 32 x 32 -> 64 110 -> 75, its 256 x 4 x 4 -> 256 62 -> 27 (with the narrow
// reduction below), the MNIST network's 16 x 14 x 14 -> 32 at batch 64 1.2 -> 0.8. With a few taps (one
// or three input channels) the copy costs more than the lanes save (MNIST's first layer: 0.22 -> 0.55).
inline bool weight_by_outer_products(const Conv2dDims& d) { return d.O % kLanes == 0 && d.C * d.KH * d.KW >= 64; }

// How many chunks the weight gradient's batch is cut into: kWeightChunks, or half as many for a weight of
// more than 128 Ki values taken by outer products, whose chunks' partial sums (chunks x the weight) are
// written and read back once more than they are worth (ResNet-9's 256 x 256 x 3 x 3: 38 MB at 16). A
// function of the shape alone, like the sums' order.
inline int weight_chunks(const Conv2dDims& d) {
  const long weight = long(d.O) * d.C * d.KH * d.KW;
  const int chunks = weight_by_outer_products(d) && weight > (1L << 17) ? kWeightChunks / 2 : kWeightChunks;
  return d.N < chunks ? d.N : chunks;
}

// The AVX-512 passes (conv2d_avx512.cpp); callers check conv2d_fast_path first.
void forward(float* out, float* xpad, const float* in, const float* weight, const float* bias, float* workspace,
             const Conv2dDims& d);
void backward_input(float* din, const float* dout, const float* weight, float* workspace, const Conv2dDims& d);
void backward_weight(float* dweight, const float* dout, const float* xpad, float* workspace, const Conv2dDims& d);

}  // namespace xgrad::kernels::fast
