// Matrix products on cblas_sgemm.
#pragma once
#include "xgrad/core/tensor.hpp"

namespace xgrad {

// (M, K) x (K, N) -> (M, N); (B, M, K) x (B, K, N) -> (B, M, N); (B, M, K) x (K, N) -> (B, M, N).
Tensor matmul(const Tensor& a, const Tensor& b);
// y = x W^T + b, with x (N, in), W (out, in), b (out) or undefined: torch.nn.functional.linear.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace xgrad
