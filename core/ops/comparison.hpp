// Elementwise comparisons with NumPy broadcasting, as torch.eq/ne/lt/le/gt/ge, returning float32 0/1
// tensors (xgrad has one dtype): masks for where() and masked_fill(). They have no gradient and record
// nothing, as in PyTorch. NaN compares unequal to everything.
#pragma once
#include "xgrad/core/tensor.hpp"

namespace xgrad {

Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, float b);
Tensor ne(const Tensor& a, float b);
Tensor lt(const Tensor& a, float b);
Tensor le(const Tensor& a, float b);
Tensor gt(const Tensor& a, float b);
Tensor ge(const Tensor& a, float b);

// x < y and friends: the same ops (== and != are left to Tensor identity questions; use eq and ne).
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, float b);
Tensor operator<=(const Tensor& a, float b);
Tensor operator>(const Tensor& a, float b);
Tensor operator>=(const Tensor& a, float b);

}  // namespace xgrad
