// The shared shape of an elementwise unary op with its backward: y = f(x), dx = g * df(x, y), the
// derivative given the input and the output. Internal to core/ops (elementwise and activation).
// Large tensors are split across the OpenMP threads: each element is computed alone, so the result does
// not depend on the thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"

namespace xgrad::detail {

// Below this many elements a parallel region costs more than it saves.
constexpr std::int64_t kUnaryParallelMin = 1 << 16;

template <class F, class DF>
Tensor unary(const Tensor& x, const char* op, F&& f, DF&& df) {
  XGRAD_CHECK(x.defined(), op, ": the input is undefined");
  Tensor out = empty(x.shape());
  const float* in = x.data();
  float* o = out.data();
  const auto n = static_cast<std::int64_t>(x.numel());
#pragma omp parallel for simd schedule(static) if (n >= kUnaryParallelMin)
  for (std::int64_t i = 0; i < n; ++i) o[i] = f(in[i]);
  if (!needs_grad({x})) return out;
  return record(out, op, {x}, [x, y = out.detach(), df](const Tensor& g) {
    Tensor dx = empty(x.shape());
    const float *xv = x.data(), *yv = y.data(), *gv = g.data();
    float* d = dx.data();
    const auto n = static_cast<std::int64_t>(x.numel());
#pragma omp parallel for simd schedule(static) if (n >= kUnaryParallelMin)
    for (std::int64_t i = 0; i < n; ++i) d[i] = gv[i] * df(xv[i], yv[i]);
    return std::vector<Tensor>{dx};
  }, {x, out});
}

}  // namespace xgrad::detail
