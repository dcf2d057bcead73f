// LayerNorm (PyTorch's nn.LayerNorm): each sample is normalized over its last k axes (normalized_shape) by
// its own mean and biased variance, in training and eval alike; weight and bias have normalized_shape and
// apply elementwise. Options and parameters only: the op is layer_norm in core/ops/layer_norm.
#pragma once
#include <string>

#include "xgrad/core/ops/layer_norm.hpp"
#include "xgrad/layers/module.hpp"

namespace xgrad {

struct LayerNormOptions {
  Shape normalized_shape;        // the trailing axes normalized together, e.g. {C, H, W} or {features}
  float eps = 1e-5f;
  bool elementwise_affine = true;  // learnable weight (ones) and bias (zeros) of normalized_shape

  LayerNormOptions() = default;
  explicit LayerNormOptions(Shape shape) : normalized_shape(std::move(shape)) {}
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(const LayerNormOptions& options);
  explicit LayerNorm(const Shape& normalized_shape) : LayerNorm(LayerNormOptions(normalized_shape)) {}

  Tensor forward(const Tensor& x) override;
  std::string describe() const override;  // "LayerNorm((10,), eps=1e-05, elementwise_affine=True)"
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<LayerNorm>(options_)); }

  const LayerNormOptions& options() const { return options_; }
  Tensor weight() const { return weight_; }  // undefined without elementwise_affine
  Tensor bias() const { return bias_; }

 private:
  LayerNormOptions options_;
  Tensor weight_, bias_;
};

}  // namespace xgrad
