// Reduction layout and the summing kernel: see reduce_layout.hpp.
#include "xgrad/core/kernels/reduce_layout.hpp"

#include <algorithm>

#include "xgrad/core/storage_pool.hpp"

namespace xgrad::kernels {

ReduceLayout make_reduce_layout(const Shape& shape, const Axes& axes) {
  ReduceLayout layout;
  SmallVector<bool, 6> reduced(shape.size(), false);
  for (std::size_t a : axes) reduced[a] = true;
  // Merge runs of same-kind axes, dropping size-1 axes (they change no index).
  SmallVector<bool, 6> kinds;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    layout.in_numel *= shape[i];
    if (!reduced[i]) layout.out_numel *= shape[i];
    if (shape[i] == 1) continue;
    if (!kinds.empty() && kinds.back() == reduced[i]) {
      layout.sizes.back() *= shape[i];
    } else {
      layout.sizes.push_back(shape[i]);
      kinds.push_back(reduced[i]);
    }
  }
  layout.out_strides.assign(layout.sizes.size(), 0);
  std::size_t stride = 1;
  for (std::size_t d = layout.sizes.size(); d-- > 0;) {
    if (kinds[d]) continue;
    layout.out_strides[d] = stride;
    stride *= layout.sizes[d];
  }
  return layout;
}

void reduce_sum(float* out, const float* in, const ReduceLayout& layout) {
  PoolVector<double> acc(layout.out_numel, 0.0);
  for_each_reduce(layout, [&](std::size_t i, std::size_t o) { acc[o] += in[i]; });
  std::transform(acc.begin(), acc.end(), out, [](double v) { return static_cast<float>(v); });
}

}  // namespace xgrad::kernels
