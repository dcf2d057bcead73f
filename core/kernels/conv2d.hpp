// 2-D convolution (cross-correlation, like PyTorch) on contiguous NCHW float32 data: forward, and the
// gradients of input, weight and bias. Two twins: the reference, im2col + GEMM for any geometry; and a
// direct AVX-512 convolution for stride 1 and dilation 1 (conv2d_fast.hpp, conv2d_avx512.cpp), chosen by
// dispatch.hpp's conv2d_path through conv2d_plan. OpenMP over the batch. No shape checks here: the graph function in core/ops/conv_pool.cpp validates and fills
// Conv2dDims. Results are deterministic: the samples are independent, and the weight gradient's split of
// the batch does not depend on the threads.
#pragma once
#include <cstddef>

#include "xgrad/core/kernels/dispatch.hpp"

namespace xgrad::kernels {

struct Conv2dDims {
  int N, C, H, W;  // input (N, C, H, W)
  int O, KH, KW;   // weight (O, C, KH, KW)
  int SH, SW;      // stride
  int PH, PW;      // zero padding on each side
  int DH, DW;      // dilation
  int OH, OW;      // output (N, O, OH, OW), OH = (H + 2 PH - DH (KH - 1) - 1) / SH + 1
};

// The twin conv2d_path(d) picks, and the buffers it needs (sizes 0 on the reference path). `saved`
// (plan.saved floats) receives the zero-padded input in the forward pass and feeds the weight gradient;
// it may be null when no weight gradient will be asked (inference). `workspace` (plan.workspace floats) is
// scratch for any pass, sized for omp_get_max_threads() threads. A backward takes its forward's plan, so
// one graph node runs one twin even if the switch changes in between.
struct Conv2dPlan {
  KernelPath path;
  std::size_t saved, workspace;
};
Conv2dPlan conv2d_plan(const Conv2dDims& d);

// out (N, O, OH, OW) = conv(in (N, C, H, W), weight (O, C, KH, KW)) + bias (O); bias may be null.
void conv2d_forward(const Conv2dPlan& plan, float* out, float* saved, const float* in, const float* weight,
                    const float* bias, float* workspace, const Conv2dDims& d);
// din (N, C, H, W) from dout (N, O, OH, OW) and weight.
void conv2d_backward_input(const Conv2dPlan& plan, float* din, const float* dout, const float* weight,
                           float* workspace, const Conv2dDims& d);
// dweight (O, C, KH, KW) from dout and in (or the forward's `saved`). The batch is split into a fixed
// number of chunks (independent of the thread count) whose partial sums are added in chunk order.
void conv2d_backward_weight(const Conv2dPlan& plan, float* dweight, const float* dout, const float* in,
                            const float* saved, float* workspace, const Conv2dDims& d);
// dbias (O) = sum of dout over N, OH, OW, accumulated in double. One kernel for both paths.
void conv2d_backward_bias(float* dbias, const float* dout, const Conv2dDims& d);

// The twins themselves, for tests and benchmarks that compare them.
// Reference: im2col + GEMM, any geometry, no buffers.
void conv2d_forward_reference(float* out, const float* in, const float* weight, const float* bias,
                              const Conv2dDims& d);
void conv2d_backward_input_reference(float* din, const float* dout, const float* weight, const Conv2dDims& d);
void conv2d_backward_weight_reference(float* dweight, const float* dout, const float* in, const Conv2dDims& d);
// AVX-512: only where conv2d_path(d) says it applies; xpad (conv2d_padded_input_size floats) and
// workspace (conv2d_workspace_size floats) as `saved` and `workspace` above.
std::size_t conv2d_padded_input_size(const Conv2dDims& d);
std::size_t conv2d_workspace_size(const Conv2dDims& d);
void conv2d_forward_avx512(float* out, float* xpad, const float* in, const float* weight, const float* bias,
                           float* workspace, const Conv2dDims& d);
void conv2d_backward_input_avx512(float* din, const float* dout, const float* weight, float* workspace,
                                  const Conv2dDims& d);
// The batch split into fast::weight_chunks(d) chunks (conv2d_fast.hpp), a function of the shape alone.
void conv2d_backward_weight_avx512(float* dweight, const float* dout, const float* xpad, float* workspace,
                                   const Conv2dDims& d);

}  // namespace xgrad::kernels
