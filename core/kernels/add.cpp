// See add.hpp. Large sums are split across the OpenMP threads: a residual network's block inputs run to
// millions of values, and a single thread would leave the others waiting.
#include "xgrad/core/kernels/add.hpp"

#include <cstdint>

namespace xgrad::kernels {

void add(float* out, const float* a, const float* b, std::size_t n) {
  const auto count = static_cast<std::int64_t>(n);
#pragma omp parallel for schedule(static) if (count >= (1 << 16))
  for (std::int64_t i = 0; i < count; ++i) out[i] = a[i] + b[i];
}

}  // namespace xgrad::kernels
