// The shared shape of an elementwise unary op with its backward: y = f(x), dx = g * df(v), where v is the
// one value the derivative needs: the input x, the output y, or nothing (df() for constant slopes such as
// x * 2). Only that tensor is saved for backward (as PyTorch's derivatives.yaml does), so an op that needs
// nothing lets its input and output be modified in place afterwards. Internal to core/ops (elementwise and
// activation). Large tensors are split across the OpenMP threads: each element is computed alone, so the
// result does not depend on the thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"

namespace xgrad::detail {

// Below this many elements a parallel region costs more than it saves.
constexpr std::int64_t kUnaryParallelMin = 1 << 16;

enum class Saves { nothing, input, output };

template <Saves S, class F, class DF>
Tensor unary(const Tensor& x, const char* op, F&& f, DF&& df) {
  XGRAD_CHECK(x.defined(), op, ": the input is undefined");
  Tensor out = empty(x.shape());
  const float* in = x.data();
  float* o = out.data();
  const auto n = static_cast<std::int64_t>(x.numel());
#pragma omp parallel for simd schedule(static) if (n >= kUnaryParallelMin)
  for (std::int64_t i = 0; i < n; ++i) o[i] = f(in[i]);
  if (!needs_grad({x})) return out;
  // The output is saved detached: the closure must not own the node that owns it.
  const Tensor kept = S == Saves::input ? x : S == Saves::output ? out.detach() : Tensor();
  return record(out, op, {x}, [kept, shape = x.shape(), df](const Tensor& g) {
    Tensor dx = empty(shape);
    const float* gv = g.data();
    float* d = dx.data();
    const auto n = static_cast<std::int64_t>(dx.numel());
    if constexpr (S == Saves::nothing) {
#pragma omp parallel for simd schedule(static) if (n >= kUnaryParallelMin)
      for (std::int64_t i = 0; i < n; ++i) d[i] = gv[i] * df();
    } else {
      const float* v = kept.data();
#pragma omp parallel for simd schedule(static) if (n >= kUnaryParallelMin)
      for (std::int64_t i = 0; i < n; ++i) d[i] = gv[i] * df(v[i]);
    }
    return TensorList{dx};
  }, {kept});
}

}  // namespace xgrad::detail
