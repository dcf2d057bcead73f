// Activation functions and softmax, each forward followed by its backward. Elementwise activations are
// plain loops with the derivative written next to the function; softmax and log_softmax work along any
// axis by viewing the tensor as (outer, C, inner). Not the activation layers (see layers/).
#include "xgrad/core/ops/activation.hpp"

#include <cmath>
#include <vector>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/unary.hpp"

namespace xgrad {
using detail::Saves;
using detail::unary;

namespace {

// A tensor seen as (outer, C, inner) around the softmax axis: element (o, c, i) is at (o C + c) inner + i.
struct AxisView {
  std::size_t outer = 1, C = 1, inner = 1;
};

AxisView axis_view(const Shape& shape, int axis, const char* op) {
  AxisView v;
  if (shape.empty()) {  // a scalar is a softmax over one element, as in PyTorch (axis 0 or -1)
    normalize_axis(axis, 1, op);
    return v;
  }
  const std::size_t a = normalize_axis(axis, shape.size(), op);
  for (std::size_t i = 0; i < a; ++i) v.outer *= shape[i];
  v.C = shape[a];
  for (std::size_t i = a + 1; i < shape.size(); ++i) v.inner *= shape[i];
  return v;
}

// Per slice: y_c = exp(x_c - m) / sum_k exp(x_k - m) with m = max_k x_k, or, for log,
// y_c = x_c - m - log sum_k exp(x_k - m). Subtracting m keeps exp from overflowing; sums in double.
void softmax_forward(float* y, const float* x, const AxisView& v, bool log) {
  if (v.C == 0) return;  // empty along the axis: nothing to read
  for (std::size_t o = 0; o < v.outer; ++o) {
    for (std::size_t i = 0; i < v.inner; ++i) {
      const std::size_t base = o * v.C * v.inner + i, step = v.inner;
      float m = x[base];
      for (std::size_t c = 1; c < v.C; ++c) m = std::max(m, x[base + c * step]);
      double total = 0.0;
      for (std::size_t c = 0; c < v.C; ++c) total += std::exp(double(x[base + c * step]) - m);
      if (log) {
        const double shift = m + std::log(total);
        for (std::size_t c = 0; c < v.C; ++c) y[base + c * step] = float(double(x[base + c * step]) - shift);
      } else {
        for (std::size_t c = 0; c < v.C; ++c) {
          y[base + c * step] = float(std::exp(double(x[base + c * step]) - m) / total);
        }
      }
    }
  }
}

// softmax:     dx_c = y_c (g_c - sum_k g_k y_k)
// log_softmax: dx_c = g_c - exp(y_c) sum_k g_k      (exp(y) is the softmax)
void softmax_backward(float* dx, const float* g, const float* y, const AxisView& v, bool log) {
  for (std::size_t o = 0; o < v.outer; ++o) {
    for (std::size_t i = 0; i < v.inner; ++i) {
      const std::size_t base = o * v.C * v.inner + i, step = v.inner;
      double dot = 0.0;
      for (std::size_t c = 0; c < v.C; ++c) {
        const std::size_t k = base + c * step;
        dot += log ? double(g[k]) : double(g[k]) * y[k];
      }
      for (std::size_t c = 0; c < v.C; ++c) {
        const std::size_t k = base + c * step;
        dx[k] = log ? float(g[k] - std::exp(double(y[k])) * dot) : float(y[k] * (g[k] - dot));
      }
    }
  }
}

Tensor softmax_op(const Tensor& x, int axis, bool log, const char* op) {
  XGRAD_CHECK(x.defined(), op, ": the input is undefined");
  const AxisView v = axis_view(x.shape(), axis, op);
  Tensor out = empty(x.shape());
  softmax_forward(out.data(), x.data(), v, log);
  return record(out, op, {x}, [y = out.detach(), v, log](const Tensor& g) {
    Tensor dx = empty(y.shape());
    softmax_backward(dx.data(), g.data(), y.data(), v, log);
    return TensorList{dx};
  }, {out.detach()});
}

}  // namespace

Tensor relu(const Tensor& x) {
  // NaN passes through, as in PyTorch.
  return unary<Saves::output>(x, "relu", [](float v) { return v > 0.0f || std::isnan(v) ? v : 0.0f; },
                               [](float y) { return y > 0.0f ? 1.0f : 0.0f; });  // y > 0 exactly where x > 0
}

Tensor leaky_relu(const Tensor& x, float negative_slope) {
  return unary<Saves::input>(x, "leaky_relu", [negative_slope](float v) { return v > 0.0f ? v : v * negative_slope; },
                              [negative_slope](float v) { return v > 0.0f ? 1.0f : negative_slope; });
}

Tensor sigmoid(const Tensor& x) {
  // 1 / (1 + e^-x) for x >= 0, and e^x / (1 + e^x) below, so that exp never overflows. dy = y (1 - y).
  return unary<Saves::output>(x, "sigmoid",
               [](float v) {
                 if (v >= 0.0f) return 1.0f / (1.0f + std::exp(-v));
                 const float e = std::exp(v);
                 return e / (1.0f + e);
               },
               [](float y) { return y * (1.0f - y); });
}

Tensor tanh(const Tensor& x) {
  return unary<Saves::output>(x, "tanh", [](float v) { return std::tanh(v); }, [](float y) { return 1.0f - y * y; });
}

Tensor gelu(const Tensor& x) {
  // y = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2; dy = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
  // Evaluated in double and rounded once.
  constexpr double inv_sqrt2 = 0.70710678118654752440, inv_sqrt_2pi = 0.39894228040143267794;
  return unary<Saves::input>(x, "gelu",
               [](float v) { return float(0.5 * v * (1.0 + std::erf(v * inv_sqrt2))); },
               [](float v) {
                 const double cdf = 0.5 * (1.0 + std::erf(v * inv_sqrt2));
                 return float(cdf + v * inv_sqrt_2pi * std::exp(-0.5 * double(v) * v));
               });
}

Tensor softplus(const Tensor& x, float beta, float threshold) {
  XGRAD_CHECK(beta != 0.0f, "softplus: beta must be nonzero");
  // dy = sigmoid(beta x) = z / (1 + z) with z = exp(beta x), and 1 above the threshold, as torch.
  return unary<Saves::input>(x, "softplus",
               [beta, threshold](float v) {
                 return v * beta > threshold ? v : std::log1p(std::exp(v * beta)) / beta;
               },
               [beta, threshold](float v) {
                 if (v * beta > threshold) return 1.0f;
                 const float z = std::exp(v * beta);
                 return z / (z + 1.0f);
               });
}

Tensor softmax(const Tensor& x, int axis) { return softmax_op(x, axis, false, "softmax"); }

Tensor log_softmax(const Tensor& x, int axis) { return softmax_op(x, axis, true, "log_softmax"); }

}  // namespace xgrad
