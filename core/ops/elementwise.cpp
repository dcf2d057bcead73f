// Elementwise ops, each forward followed by its backward. Backward closures return gradients in the
// output's (broadcast) shape; the engine sums them back to each input's shape.
#include "xgrad/core/ops/elementwise.hpp"

#include <cmath>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/unary.hpp"
#include "xgrad/core/kernels/broadcast.hpp"

namespace xgrad {
using detail::Saves;
using detail::unary;

namespace {

template <class F>
Tensor binary_forward(const Tensor& a, const Tensor& b, const char* op, F&& f) {
  XGRAD_CHECK(a.defined() && b.defined(), op, ": an operand is undefined");
  Tensor out = empty(broadcast_shapes(a.shape(), b.shape(), op));
  kernels::broadcast_binary(out.data(), a.data(), a.shape(), b.data(), b.shape(), out.shape(), f);
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, "add", [](float x, float y) { return x + y; });
  return record(out, "add", {a, b}, [](const Tensor& g) { return TensorList{g, g}; });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, "sub", [](float x, float y) { return x - y; });
  return record(out, "sub", {a, b}, [](const Tensor& g) { return TensorList{g, neg(g)}; });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, "mul", [](float x, float y) { return x * y; });
  if (!needs_grad({a, b})) return out;
  // d(a*b) = g*b da + g*a db: b is saved only when a needs a gradient, a only when b does.
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  const Tensor sa = need_b ? a : Tensor(), sb = need_a ? b : Tensor();
  return record(out, "mul", {a, b}, [sa, sb](const Tensor& g) {
    return TensorList{sb.defined() ? mul(g, sb) : Tensor(), sa.defined() ? mul(g, sa) : Tensor()};
  }, {sa, sb});
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, "div", [](float x, float y) { return x / y; });
  if (!needs_grad({a, b})) return out;
  // d(a/b) = g/b da - g*a/b^2 db: b is always read, a only for db.
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  const Tensor sa = need_b ? a : Tensor();
  return record(out, "div", {a, b}, [sa, b, need_a, need_b](const Tensor& g) {
    Tensor ga = div(g, b);
    return TensorList{need_a ? ga : Tensor(), need_b ? neg(div(mul(ga, sa), b)) : Tensor()};
  }, {sa, b});
}

Tensor add(const Tensor& a, float b) {
  return unary<Saves::nothing>(a, "add", [b](float x) { return x + b; }, [] { return 1.0f; });
}

Tensor mul(const Tensor& a, float b) {
  return unary<Saves::nothing>(a, "mul", [b](float x) { return x * b; }, [b] { return b; });
}

Tensor neg(const Tensor& x) {
  return unary<Saves::nothing>(x, "neg", [](float v) { return -v; }, [] { return -1.0f; });
}

Tensor exp(const Tensor& x) {
  return unary<Saves::output>(x, "exp", [](float v) { return std::exp(v); }, [](float y) { return y; });
}

Tensor log(const Tensor& x) {
  return unary<Saves::input>(x, "log", [](float v) { return std::log(v); }, [](float v) { return 1.0f / v; });
}

Tensor sqrt(const Tensor& x) {
  return unary<Saves::output>(x, "sqrt", [](float v) { return std::sqrt(v); }, [](float y) { return 0.5f / y; });
}

Tensor pow(const Tensor& x, float p) {
  // d(x^p) = p x^(p-1)
  return unary<Saves::input>(x, "pow", [p](float v) { return std::pow(v, p); },
                              [p](float v) { return p * std::pow(v, p - 1.0f); });
}

Tensor sin(const Tensor& x) {
  return unary<Saves::input>(x, "sin", [](float v) { return std::sin(v); }, [](float v) { return std::cos(v); });
}

Tensor cos(const Tensor& x) {
  return unary<Saves::input>(x, "cos", [](float v) { return std::cos(v); }, [](float v) { return -std::sin(v); });
}

Tensor log1p(const Tensor& x) {
  return unary<Saves::input>(x, "log1p", [](float v) { return std::log1p(v); },
                              [](float v) { return 1.0f / (1.0f + v); });
}

Tensor abs(const Tensor& x) {
  return unary<Saves::input>(x, "abs", [](float v) { return std::fabs(v); },
                              [](float v) { return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f); });
}

Tensor clamp(const Tensor& x, float lo, float hi) {
  XGRAD_CHECK(!(lo > hi), "clamp: min ", lo, " is above max ", hi);
  return unary<Saves::input>(x, "clamp", [lo, hi](float v) { return std::min(std::max(v, lo), hi); },
                              [lo, hi](float v) { return v >= lo && v <= hi ? 1.0f : 0.0f; });
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, float b) { return add(a, b); }
Tensor operator+(float a, const Tensor& b) { return add(b, a); }
Tensor operator-(const Tensor& a, float b) { return add(a, -b); }
Tensor operator-(float a, const Tensor& b) { return add(neg(b), a); }
Tensor operator*(const Tensor& a, float b) { return mul(a, b); }
Tensor operator*(float a, const Tensor& b) { return mul(b, a); }
Tensor operator/(const Tensor& a, float b) {
  // A true division (not a multiply by 1/b) so results match PyTorch to the last bit.
  return unary<Saves::nothing>(a, "div", [b](float x) { return x / b; }, [b] { return 1.0f / b; });
}
Tensor operator/(float a, const Tensor& b) { return div(full({}, a), b); }

}  // namespace xgrad
