// Adam (L2 weight decay added to the gradient) and AdamW (weight decay decoupled from the gradient),
// with optional AMSGrad and bias correction by each parameter's own step count, following the
// algorithms in PyTorch's torch.optim.Adam and torch.optim.AdamW documentation and defaults.
#pragma once
#include <utility>

#include "xgrad/optim/optimizer.hpp"

namespace xgrad {

struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;  // L2: added to the gradient
  bool amsgrad = false;
};

struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;  // decoupled: p *= 1 - lr * weight_decay before the Adam step
  bool amsgrad = false;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<NamedTensor> params, AdamOptions options);
  Adam(std::vector<ParamGroup> groups, AdamOptions options);

  std::vector<std::pair<std::string, double>> options() const override;
  std::vector<std::string> state_buffers() const override;

 protected:
  Adam(std::string type, std::vector<ParamGroup> groups, AdamOptions options, bool decoupled);

 private:
  void update(Tensor& param, const Tensor& grad, const Group& group, ParamState& state) override;

  AdamOptions options_;
  bool decoupled_;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<NamedTensor> params, AdamWOptions options);
  AdamW(std::vector<ParamGroup> groups, AdamWOptions options);
};

}  // namespace xgrad
