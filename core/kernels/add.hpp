// out = a + b over n contiguous floats: what the autograd engine runs to sum the gradients a tensor gets
// from its several uses (a residual block's input, a shared weight). out may be a (in place). Each element
// is one float add, so the bits do not depend on the thread count.
#pragma once
#include <cstddef>

namespace xgrad::kernels {

void add(float* out, const float* a, const float* b, std::size_t n);

}  // namespace xgrad::kernels
