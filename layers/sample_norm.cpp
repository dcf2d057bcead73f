// Per-sample normalization layers: see sample_norm.hpp.
#include "xgrad/layers/sample_norm.hpp"

#include <cmath>
#include <sstream>
#include <vector>

#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/elementwise.hpp"
#include "xgrad/core/ops/reduce.hpp"

namespace xgrad {
namespace {

// Axes 1..rank-1 of x, after checking x is (N, features...).
std::vector<int> feature_axes(const Tensor& x, const std::string& layer) {
  XGRAD_CHECK(x.defined(), layer, ": the input is undefined");
  XGRAD_CHECK(x.dim() >= 2 && x.numel() > 0, layer, ": expected input (N, features...) with at least one ",
              "feature, got ", shape_str(x.shape()));
  std::vector<int> axes;
  for (int a = 1; a < static_cast<int>(x.dim()); ++a) axes.push_back(a);
  return axes;
}

void check_eps(float eps, const char* layer) {
  XGRAD_CHECK(std::isfinite(eps) && eps > 0.0f, layer, ": eps must be positive, got ", eps);
}

}  // namespace

MinMaxNorm::MinMaxNorm(float eps) : eps_(eps) { check_eps(eps, "MinMaxNorm"); }

Tensor MinMaxNorm::forward(const Tensor& x) {
  const std::vector<int> axes = feature_axes(x, describe());
  Tensor hi = max(x, axes, true);    // (N, 1, ...)
  Tensor lo = -max(-x, axes, true);  // (N, 1, ...)
  return (x - lo) / (hi - lo + eps_);
}

std::string MinMaxNorm::describe() const {
  std::ostringstream out;
  out << "MinMaxNorm(eps=" << eps_ << ")";
  return out.str();
}

ZScoreNorm::ZScoreNorm(float eps) : eps_(eps) { check_eps(eps, "ZScoreNorm"); }

Tensor ZScoreNorm::forward(const Tensor& x) {
  const std::vector<int> axes = feature_axes(x, describe());
  Tensor centered = x - mean(x, axes, true);                   // (N, features...)
  Tensor variance = mean(centered * centered, axes, true);     // (N, 1, ...), divides by the feature count
  return centered / sqrt(variance + eps_);
}

std::string ZScoreNorm::describe() const {
  std::ostringstream out;
  out << "ZScoreNorm(eps=" << eps_ << ")";
  return out.str();
}

}  // namespace xgrad
