// Per-sample normalization layers: each sample (axis 0) is rescaled by statistics of its own features
// (every other axis), in training and evaluation alike, with no fitted state and no parameters.
// Composed from primitive ops, so autograd differentiates through the statistics. For scalers fitted on a
// data set, see scalers.hpp.
#pragma once
#include <string>

#include "xgrad/layers/module.hpp"

namespace xgrad {

// y = (x - min) / (max - min + eps), min and max over each sample's features: values land in [0, 1).
// A constant sample maps to 0. The gradient through min and max flows to the first extreme element.
class MinMaxNorm : public Module {
 public:
  explicit MinMaxNorm(float eps = 1e-5f);
  Tensor forward(const Tensor& x) override;  // x: (N, features...) -> same shape
  std::string describe() const override;     // "MinMaxNorm(eps=1e-05)"
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<MinMaxNorm>(eps_)); }
  float eps() const { return eps_; }

 private:
  float eps_;
};

// y = (x - mean) / sqrt(var + eps), mean and population variance over each sample's features (the
// z-score; LayerNorm without its affine parameters). eps inside the square root keeps the gradient finite
// for a constant sample.
class ZScoreNorm : public Module {
 public:
  explicit ZScoreNorm(float eps = 1e-5f);
  Tensor forward(const Tensor& x) override;  // x: (N, features...) -> same shape
  std::string describe() const override;     // "ZScoreNorm(eps=1e-05)"
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<ZScoreNorm>(eps_)); }
  float eps() const { return eps_; }

 private:
  float eps_;
};

}  // namespace xgrad
