// The binary broadcasting loop: out[i] = f(a[ia], b[ib]) over the broadcast shape, with the index into
// each operand advanced by its own strides (0 along a broadcast axis).
#pragma once
#include <cstddef>
#include <vector>

#include "xgrad/core/shape.hpp"

namespace xgrad::kernels {

// Strides of `shape` seen through the broadcast shape `out` (0 where `shape` is 1 or missing).
Strides broadcast_strides(const Shape& shape, const Shape& out);

template <class F>
void broadcast_binary(float* out, const float* a, const Shape& a_shape, const float* b, const Shape& b_shape,
                      const Shape& out_shape, F&& f) {
  const std::size_t n = numel(out_shape);
  if (n == 0) return;
  if (a_shape == out_shape && b_shape == out_shape) {
    for (std::size_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
    return;
  }
  if (numel(b_shape) == 1 && a_shape == out_shape) {
    const float bv = b[0];
    for (std::size_t i = 0; i < n; ++i) out[i] = f(a[i], bv);
    return;
  }
  const Strides sa = broadcast_strides(a_shape, out_shape);
  const Strides sb = broadcast_strides(b_shape, out_shape);
  const std::size_t nd = out_shape.size();
  const std::size_t inner = out_shape[nd - 1], ia_step = sa[nd - 1], ib_step = sb[nd - 1];
  Shape index(nd, 0);  // the odometer over the outer axes
  std::size_t ia = 0, ib = 0;
  for (std::size_t o = 0; o < n; o += inner) {
    for (std::size_t j = 0; j < inner; ++j) out[o + j] = f(a[ia + j * ia_step], b[ib + j * ib_step]);
    for (std::size_t d = nd - 1; d-- > 0;) {
      ++index[d];
      ia += sa[d];
      ib += sb[d];
      if (index[d] < out_shape[d]) break;
      ia -= sa[d] * out_shape[d];
      ib -= sb[d] * out_shape[d];
      index[d] = 0;
    }
  }
}

}  // namespace xgrad::kernels
