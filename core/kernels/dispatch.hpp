// The one place that decides which twin of a kernel runs: the portable reference (plain loops, or
// OpenBLAS for gemm) or the AVX-512 one beside it (*_avx512.cpp), which computes the same values. The
// AVX-512 twin runs when the CPU has it, it is not switched off (cpu_features.hpp: XGRAD_KERNELS=reference
// in the environment, or set_fast_paths_enabled(false)), and the sizes are ones it handles. Each kernel's
// entry point asks here, the same way for conv2d, batch norm, max pooling and gemm; nothing else chooses.
#pragma once
#include <cstddef>

namespace xgrad::kernels {

struct Conv2dDims;  // conv2d.hpp
struct Pool2dDims;  // pool2d.hpp

enum class KernelPath { Reference, Avx512 };

// Direct convolution: stride 1, dilation 1, padding below the kernel size, nothing empty.
KernelPath conv2d_path(const Conv2dDims& d);
// Batch norm over (N, C, HW), training forward and backward: any non-empty batch.
KernelPath batch_norm_path(std::size_t N, std::size_t HW);
// The fused batch norm + ReLU + 2x2 max pool (batch_norm_pool.hpp) over (N, C, H, W), training: the batch
// norm's rule, so that it runs the twin whose arithmetic the unfused batch norm runs and gives its bits,
// for rows up to kBatchNormMaxPoolMaxWidth wide (its backward rebuilds dy four pooled rows at a time on
// the stack). Wider rows take the portable twin: a few ulps from the unfused AVX-512 batch norm.
inline constexpr std::size_t kBatchNormMaxPoolMaxWidth = 512;
KernelPath batch_norm_max_pool_path(std::size_t N, std::size_t H, std::size_t W);
// Max pooling: the reference networks' 2x2 window, stride 2, no padding.
KernelPath max_pool2d_path(const Pool2dDims& d);
// C = op(A) op(B) with alpha 1 and beta 0, not both transposed, from 2^16 multiply-adds (below that
// OpenBLAS's AVX2 kernels win: the AVX-512 twin's packing dominates small products).
KernelPath gemm_path(bool trans_a, bool trans_b, int M, int N, int K, float alpha, float beta);

}  // namespace xgrad::kernels
