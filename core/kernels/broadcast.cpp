// Broadcast strides: see broadcast.hpp.
#include "xgrad/core/kernels/broadcast.hpp"

namespace xgrad::kernels {

Strides broadcast_strides(const Shape& shape, const Shape& out) {
  Strides strides(out.size(), 0);
  const std::size_t lead = out.size() - shape.size();
  std::size_t stride = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[lead + i] = shape[i] == 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

}  // namespace xgrad::kernels
