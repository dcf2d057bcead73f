// Gradient clipping by global norm and by value: see clipping.hpp.
#include "xgrad/optim/clipping.hpp"

#include <algorithm>
#include <cmath>

#include "xgrad/core/error.hpp"

namespace xgrad {
namespace {

// sum_i |g_i|^p over one gradient, in double, sequentially (a fixed order: reproducible).
double sum_abs_pow(const float* g, std::size_t n, double p) {
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double a = std::fabs(static_cast<double>(g[i]));
    total += p == 2.0 ? a * a : p == 1.0 ? a : std::pow(a, p);
  }
  return total;
}

double max_abs(const float* g, std::size_t n) {
  double best = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double a = std::fabs(static_cast<double>(g[i]));
    if (!(a <= best)) best = a;  // NaN propagates
  }
  return best;
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  XGRAD_CHECK(max_norm >= 0 && !std::isnan(max_norm), "clip_grad_norm_: max_norm must be >= 0, got ", max_norm);
  XGRAD_CHECK(norm_type > 0, "clip_grad_norm_: norm_type must be > 0 or infinity, got ", norm_type);
  const bool inf_norm = std::isinf(norm_type);
  double accumulated = 0;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    if (inf_norm) {
      const double m = max_abs(g.data(), g.numel());
      if (!(m <= accumulated)) accumulated = m;
    } else {
      accumulated += sum_abs_pow(g.data(), g.numel(), norm_type);
    }
  }
  const double total = inf_norm ? accumulated
                       : norm_type == 2.0 ? std::sqrt(accumulated)
                                          : std::pow(accumulated, 1.0 / norm_type);
  XGRAD_CHECK(!error_if_nonfinite || std::isfinite(total), "clip_grad_norm_: the total norm of order ",
              norm_type, " of the gradients is ", total, ", so they cannot be clipped");
  const double coefficient = max_norm / (total + 1e-6);
  if (coefficient >= 1.0) return total;  // also false for NaN: then, as in PyTorch, the NaN spreads
  const float scale = static_cast<float>(coefficient);
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    float* data = g.data();
    for (std::size_t i = 0, n = g.numel(); i < n; ++i) data[i] *= scale;
  }
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  XGRAD_CHECK(clip_value >= 0 && !std::isnan(clip_value), "clip_grad_value_: clip_value must be >= 0, got ",
              clip_value);
  const float hi = static_cast<float>(clip_value);
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    float* data = g.data();
    // NaN stays NaN, as with torch.clamp.
    for (std::size_t i = 0, n = g.numel(); i < n; ++i) {
      if (!std::isnan(data[i])) data[i] = std::clamp(data[i], -hi, hi);
    }
  }
}

}  // namespace xgrad
