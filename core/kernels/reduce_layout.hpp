// Iteration over a contiguous tensor that maps each element to its slot in a reduction's output.
// Used by sum/mean/var/max and by the engine to undo broadcasting. Adjacent axes that are both reduced
// or both kept are merged, so the common cases run as one long inner loop.
#pragma once
#include <cstddef>
#include <vector>

#include "xgrad/core/shape.hpp"

namespace xgrad::kernels {

struct ReduceLayout {
  Shape sizes;          // merged input axes
  Strides out_strides;  // 0 on reduced axes
  std::size_t in_numel = 1;
  std::size_t out_numel = 1;
};

// `axes` are normalized and sorted (see normalize_axes).
ReduceLayout make_reduce_layout(const Shape& shape, const Axes& axes);

// Calls f(in_index, out_index) for every input element, in input order.
template <class F>
void for_each_reduce(const ReduceLayout& layout, F&& f) {
  const std::size_t nd = layout.sizes.size();
  if (layout.in_numel == 0) return;
  if (nd == 0) {
    f(std::size_t{0}, std::size_t{0});
    return;
  }
  const std::size_t inner = layout.sizes[nd - 1];
  const std::size_t inner_stride = layout.out_strides[nd - 1];
  const std::size_t outer = layout.in_numel / inner;
  Shape index(nd, 0);
  std::size_t out_base = 0, in = 0;
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t j = 0; j < inner; ++j) f(in++, out_base + j * inner_stride);
    for (std::size_t d = nd - 1; d-- > 0;) {  // odometer over the outer axes
      ++index[d];
      out_base += layout.out_strides[d];
      if (index[d] < layout.sizes[d]) break;
      out_base -= layout.out_strides[d] * layout.sizes[d];
      index[d] = 0;
    }
  }
}

// out[o] = sum of in over the reduced axes, accumulated in double (out has layout.out_numel values).
void reduce_sum(float* out, const float* in, const ReduceLayout& layout);

}  // namespace xgrad::kernels
