// Dense (alias Linear): y = x W^T + b, torch.nn.Linear's layer on top of the linear() op. Weight and
// bias are drawn at construction from the Generator given, like PyTorch's reset_parameters().
// Not the op itself (core/ops/matmul.hpp).
#pragma once
#include <string>

#include "xgrad/core/generator.hpp"
#include "xgrad/layers/module.hpp"

namespace xgrad {

struct DenseOptions {
  int in_features = 0;
  int out_features = 0;
  bool bias = true;
};

// Parameters: weight (out_features, in_features) and, if options.bias, bias (out_features), both
// ~ U(-1/sqrt(in_features), 1/sqrt(in_features)). Input (*, in_features) -> output (*, out_features).
class Dense : public Module {
 public:
  Dense(const DenseOptions& options, Generator& gen);
  Dense(int in_features, int out_features, Generator& gen, bool bias = true)
      : Dense(DenseOptions{in_features, out_features, bias}, gen) {}

  Tensor forward(const Tensor& x) override;
  std::string describe() const override;  // "Dense(in_features=4, out_features=3, bias=true)"
  std::shared_ptr<Module> clone() const override;

  const DenseOptions& options() const { return options_; }
  // Share storage with the registered parameters; bias() is undefined without a bias.
  Tensor weight() const { return weight_; }
  Tensor bias() const { return bias_; }

 private:
  DenseOptions options_;
  Tensor weight_, bias_;
};

using Linear = Dense;

}  // namespace xgrad
