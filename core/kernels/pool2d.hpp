// 2-D max and average pooling on contiguous NCHW float32 data, forward and backward, with PyTorch's
// semantics (floor output sizes, no dilation or ceil_mode). No shape checks here: the graph functions in
// core/ops/conv_pool.cpp validate and fill Pool2dDims.
#pragma once
#include <cstdint>

namespace xgrad::kernels {

struct Pool2dDims {
  int N, C, H, W;  // input (N, C, H, W)
  int KH, KW;      // window
  int SH, SW;      // stride
  int PH, PW;      // padding on each side, at most half the window: every window holds an input element
  int OH, OW;      // output (N, C, OH, OW), OH = (H + 2 PH - KH) / SH + 1
};

// out (N, C, OH, OW) = max over each window, padding counting as -infinity; a NaN wins, like PyTorch.
// argmax (N, C, OH, OW), if not null, receives the winner's index h W + w within its (H, W) plane (the
// first one on ties).
void max_pool2d_forward(float* out, std::int32_t* argmax, const float* in, const Pool2dDims& d);
// din (N, C, H, W) = dout routed back to each window's argmax, summed where windows share a winner.
void max_pool2d_backward(float* din, const float* dout, const std::int32_t* argmax, const Pool2dDims& d);

// out = sum over each window / (KH KW): padding counts as zeros in the divisor (count_include_pad).
void avg_pool2d_forward(float* out, const float* in, const Pool2dDims& d);
void avg_pool2d_backward(float* din, const float* dout, const Pool2dDims& d);

}  // namespace xgrad::kernels
