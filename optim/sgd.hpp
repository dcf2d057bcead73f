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

// What SGD keeps about one parameter once it has been stepped.
struct SGDParamState {
  std::int64_t step = 0;
  Tensor momentum_buffer;  // the parameter's shape; undefined when momentum is 0
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<NamedTensor> params, SGDOptions options);
  // model.parameters(): named "0", "1", ... by position (named_by_position).
  SGD(const std::vector<Tensor>& params, SGDOptions options) : SGD(named_by_position(params), options) {}
  SGD(std::vector<ParamGroup> groups, SGDOptions options);

  const SGDOptions& sgd_options() const { return options_; }
  std::vector<std::pair<std::string, double>> options() const override;
  std::vector<std::string> state_buffers() const override;
  // Keyed by parameter name; only stepped parameters. Steps update the tensors in place.
  const std::map<std::string, SGDParamState>& state() const { return state_; }

 private:
  void update(const std::string& name, Tensor& param, const Tensor& grad, const Group& group) override;
  std::map<std::string, ParamState> named_state() const override;
  void set_named_state(std::map<std::string, ParamState> state) override;

  SGDOptions options_;
  std::map<std::string, SGDParamState> state_;  // ordered: iteration never depends on addresses
};

}  // namespace xgrad
