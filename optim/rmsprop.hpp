// RMSprop with optional momentum and centering, following the algorithm in PyTorch's
// torch.optim.RMSprop documentation, with its defaults (lr 1e-2, alpha 0.99, eps 1e-8).
#pragma once
#include "xgrad/optim/optimizer.hpp"

namespace xgrad {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;  // smoothing of the squared-gradient average
  double eps = 1e-8;    // added to the root, outside it
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;  // divide by the estimated variance (square_avg - grad_avg^2) instead
};

// What RMSprop keeps about one parameter once it has been stepped; each tensor has its shape.
struct RMSpropParamState {
  std::int64_t step = 0;
  Tensor square_avg;       // v
  Tensor momentum_buffer;  // b; momentum > 0 only, else undefined
  Tensor grad_avg;         // g_avg; centered only, else undefined
};

class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<NamedTensor> params, RMSpropOptions options);
  RMSprop(const std::vector<Tensor>& params, RMSpropOptions options)
      : RMSprop(named_by_position(params), options) {}
  RMSprop(std::vector<ParamGroup> groups, RMSpropOptions options);

  std::vector<std::pair<std::string, double>> options() const override;
  std::vector<std::string> state_buffers() const override;
  const std::map<std::string, RMSpropParamState>& state() const { return state_; }

 private:
  void update(const std::string& name, Tensor& param, const Tensor& grad, const Group& group) override;
  std::map<std::string, ParamState> named_state() const override;
  void set_named_state(std::map<std::string, ParamState> state) override;

  RMSpropOptions options_;
  std::map<std::string, RMSpropParamState> state_;  // ordered: iteration never depends on addresses
};

}  // namespace xgrad
