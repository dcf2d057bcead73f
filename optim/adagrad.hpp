// Adagrad, following the algorithm in PyTorch's torch.optim.Adagrad documentation, with its defaults
// (lr 1e-2, lr_decay 0, initial_accumulator_value 0, eps 1e-10).
#pragma once
#include "xgrad/optim/optimizer.hpp"

namespace xgrad {

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;  // the step's lr is lr / (1 + (t - 1) lr_decay)
  double weight_decay = 0;
  double initial_accumulator_value = 0;  // the sum of squared gradients starts here
  double eps = 1e-10;                    // added to the root, outside it
};

// What Adagrad keeps about one parameter once it has been stepped.
struct AdagradParamState {
  std::int64_t step = 0;  // t
  Tensor sum;             // the sum of squared gradients, the parameter's shape
};

class Adagrad : public Optimizer {
 public:
  Adagrad(std::vector<NamedTensor> params, AdagradOptions options);
  Adagrad(const std::vector<Tensor>& params, AdagradOptions options)
      : Adagrad(named_by_position(params), options) {}
  Adagrad(std::vector<ParamGroup> groups, AdagradOptions options);

  std::vector<std::pair<std::string, double>> options() const override;
  std::vector<std::string> state_buffers() const override { return {"sum"}; }
  const std::map<std::string, AdagradParamState>& state() const { return state_; }

 private:
  void update(const std::string& name, Tensor& param, const Tensor& grad, const Group& group) override;
  std::map<std::string, ParamState> named_state() const override;
  void set_named_state(std::map<std::string, ParamState> state) override;

  AdagradOptions options_;
  std::map<std::string, AdagradParamState> state_;  // ordered: iteration never depends on addresses
};

}  // namespace xgrad
