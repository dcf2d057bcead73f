// The shared shape of an elementwise unary op with its backward: y = f(x), dx = g * df(x, y), the
// derivative given the input and the output. Internal to core/ops (elementwise and activation).
#pragma once
#include <vector>

#include "core/autograd.hpp"
#include "core/error.hpp"

namespace xgrad::detail {

template <class F, class DF>
Tensor unary(const Tensor& x, const char* op, F&& f, DF&& df) {
  XGRAD_CHECK(x.defined(), op, ": the input is undefined");
  Tensor out = empty(x.shape());
  const float* in = x.data();
  float* o = out.data();
  for (std::size_t i = 0, n = x.numel(); i < n; ++i) o[i] = f(in[i]);
  if (!needs_grad({x})) return out;
  return record(out, op, {x}, [x, y = out.detach(), df](const Tensor& g) {
    Tensor dx = empty(x.shape());
    const float *xv = x.data(), *yv = y.data(), *gv = g.data();
    float* d = dx.data();
    for (std::size_t i = 0, n = x.numel(); i < n; ++i) d[i] = gv[i] * df(xv[i], yv[i]);
    return std::vector<Tensor>{dx};
  });
}

}  // namespace xgrad::detail
