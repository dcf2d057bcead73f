// Grouped 2-D convolution (PyTorch's groups; depthwise when groups == in_channels) on contiguous NCHW
// float32 data: the input's channels form `groups` consecutive blocks, each convolved with its own block
// of filters and nothing else. Any stride, padding and dilation, by im2col per (sample, group) and the
// library's GEMM; depthwise (one input channel per group) by direct loops over each plane instead. groups == 1 never comes here: conv2d.hpp's twins keep that case. No shape checks: the
// graph function in core/ops/conv_pool.cpp validates.
//
// `d` describes ONE group: d.C = C / groups input channels, d.O = O / groups filters, the rest as in
// conv2d.hpp. So: input (N, groups d.C, H, W), weight (groups d.O, d.C, KH, KW), output (N, groups d.O, OH, OW).
// Deterministic whatever the thread count: each (sample, group) is computed by one thread, and the weight
// gradient's batch is split into a fixed number of chunks summed in order, in double (depthwise: one
// thread per filter, its sum over the batch in order, in double).
#pragma once
#include "xgrad/core/kernels/conv2d.hpp"

namespace xgrad::kernels {

// out = conv(in, weight) + bias (groups d.O values, may be null).
void conv2d_grouped_forward(float* out, const float* in, const float* weight, const float* bias, const Conv2dDims& d,
                            int groups);
// din (N, groups d.C, H, W) from dout and weight.
void conv2d_grouped_backward_input(float* din, const float* dout, const float* weight, const Conv2dDims& d,
                                   int groups);
// dweight (groups d.O, d.C, KH, KW) from dout and in.
void conv2d_grouped_backward_weight(float* dweight, const float* dout, const float* in, const Conv2dDims& d,
                                    int groups);

}  // namespace xgrad::kernels
