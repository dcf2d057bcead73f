// Comparisons: one broadcasting loop (kernels::broadcast_binary) per predicate; no graph is recorded.
#include "xgrad/core/ops/comparison.hpp"

#include "xgrad/core/error.hpp"
#include "xgrad/core/kernels/broadcast.hpp"

namespace xgrad {
namespace {

template <class P>
Tensor compare(const Tensor& a, const Tensor& b, const char* op, P&& predicate) {
  XGRAD_CHECK(a.defined() && b.defined(), op, ": an operand is undefined");
  Tensor out = empty(broadcast_shapes(a.shape(), b.shape(), op));
  kernels::broadcast_binary(out.data(), a.data(), a.shape(), b.data(), b.shape(), out.shape(),
                            [&predicate](float x, float y) { return predicate(x, y) ? 1.0f : 0.0f; });
  return out;
}

}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) { return compare(a, b, "eq", [](float x, float y) { return x == y; }); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(a, b, "ne", [](float x, float y) { return x != y; }); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(a, b, "lt", [](float x, float y) { return x < y; }); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(a, b, "le", [](float x, float y) { return x <= y; }); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(a, b, "gt", [](float x, float y) { return x > y; }); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(a, b, "ge", [](float x, float y) { return x >= y; }); }
Tensor eq(const Tensor& a, float b) { return eq(a, scalar_tensor(b)); }
Tensor ne(const Tensor& a, float b) { return ne(a, scalar_tensor(b)); }
Tensor lt(const Tensor& a, float b) { return lt(a, scalar_tensor(b)); }
Tensor le(const Tensor& a, float b) { return le(a, scalar_tensor(b)); }
Tensor gt(const Tensor& a, float b) { return gt(a, scalar_tensor(b)); }
Tensor ge(const Tensor& a, float b) { return ge(a, scalar_tensor(b)); }

Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator<(const Tensor& a, float b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, float b) { return le(a, b); }
Tensor operator>(const Tensor& a, float b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, float b) { return ge(a, b); }

}  // namespace xgrad
