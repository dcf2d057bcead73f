// SGD with momentum, dampening, Nesterov momentum and L2 weight decay, following the algorithm in
// PyTorch's torch.optim.SGD documentation. Options are PyTorch's, with its defaults.
#pragma once
#include "xgrad/optim/optimizer.hpp"

namespace xgrad {

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<NamedTensor> params, SGDOptions options);
  SGD(std::vector<ParamGroup> groups, SGDOptions options);

  const SGDOptions& sgd_options() const { return options_; }
  std::vector<std::pair<std::string, double>> options() const override;
  std::vector<std::string> state_buffers() const override;

 private:
  void update(Tensor& param, const Tensor& grad, const Group& group, ParamState& state) override;

  SGDOptions options_;
};

}  // namespace xgrad
