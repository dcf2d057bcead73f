// 2-D convolution (cross-correlation, like PyTorch) on contiguous NCHW float32 data: forward, and the
// gradients of input, weight and bias. Two paths: the reference, im2col + GEMM for any geometry; and the
// fast path, a direct AVX-512 convolution for stride 1 and dilation 1 (conv2d_fast.hpp). OpenMP over the
// batch. No shape checks here: the graph function in core/ops/conv_pool.cpp validates and fills
// Conv2dDims. Results are deterministic: the samples are independent, and the weight gradient's split of
// the batch does not depend on the threads.
#pragma once
#include <cstddef>

namespace xgrad::kernels {

struct Conv2dDims {
  int N, C, H, W;  // input (N, C, H, W)
  int O, KH, KW;   // weight (O, C, KH, KW)
  int SH, SW;      // stride
  int PH, PW;      // zero padding on each side
  int DH, DW;      // dilation
  int OH, OW;      // output (N, O, OH, OW), OH = (H + 2 PH - DH (KH - 1) - 1) / SH + 1
};

// out (N, O, OH, OW) = conv(in (N, C, H, W), weight (O, C, KH, KW)) + bias (O); bias may be null.
void conv2d_forward(float* out, const float* in, const float* weight, const float* bias, const Conv2dDims& d);

// din (N, C, H, W) from dout (N, O, OH, OW) and weight.
void conv2d_backward_input(float* din, const float* dout, const float* weight, const Conv2dDims& d);

// dweight (O, C, KH, KW) from dout and in. The batch is split into a fixed number of chunks (independent
// of the thread count) whose partial sums are added in chunk order.
void conv2d_backward_weight(float* dweight, const float* dout, const float* in, const Conv2dDims& d);

// dbias (O) = sum of dout over N, OH, OW, accumulated in double.
void conv2d_backward_bias(float* dbias, const float* dout, const Conv2dDims& d);

// The fast path: whether it applies (AVX-512 present and enabled, stride 1, dilation 1, padding below the
// kernel size), and its buffers. xpad (conv2d_padded_input_size floats) receives the zero-padded input
// in the forward pass and feeds the weight gradient; it may be null when no weight gradient will be
// asked (inference), each thread then padding one image at a time. workspace (conv2d_workspace_size
// floats) is scratch for any of the three passes, sized for omp_get_max_threads() threads.
bool conv2d_fast_path(const Conv2dDims& d);
std::size_t conv2d_padded_input_size(const Conv2dDims& d);
std::size_t conv2d_workspace_size(const Conv2dDims& d);
void conv2d_forward_fast(float* out, float* xpad, const float* in, const float* weight, const float* bias,
                         float* workspace, const Conv2dDims& d);
void conv2d_backward_input_fast(float* din, const float* dout, const float* weight, float* workspace,
                                const Conv2dDims& d);
// The batch split into fast::kWeightChunks chunks as in the reference path.
void conv2d_backward_weight_fast(float* dweight, const float* dout, const float* xpad, float* workspace,
                                 const Conv2dDims& d);

}  // namespace xgrad::kernels
