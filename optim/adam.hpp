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

// What Adam and AdamW keep about one parameter once it has been stepped; each tensor has its shape.
struct AdamParamState {
  std::int64_t step = 0;  // t in the bias corrections
  Tensor exp_avg;         // m
  Tensor exp_avg_sq;      // v
  Tensor max_exp_avg_sq;  // max of v so far; amsgrad only, else undefined
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<NamedTensor> params, AdamOptions options);
  // model.parameters(): named "0", "1", ... by position (named_by_position).
  Adam(const std::vector<Tensor>& params, AdamOptions options) : Adam(named_by_position(params), options) {}
  Adam(std::vector<ParamGroup> groups, AdamOptions options);

  std::vector<std::pair<std::string, double>> options() const override;
  std::vector<std::string> state_buffers() const override;
  // Keyed by parameter name; only stepped parameters. Steps update the tensors in place.
  const std::map<std::string, AdamParamState>& state() const { return state_; }

 protected:
  Adam(std::string type, std::vector<ParamGroup> groups, AdamOptions options, bool decoupled);

 private:
  void update(const std::string& name, Tensor& param, const Tensor& grad, const Group& group) override;
  std::map<std::string, ParamState> named_state() const override;
  void set_named_state(std::map<std::string, ParamState> state) override;

  AdamOptions options_;
  bool decoupled_;
  std::map<std::string, AdamParamState> state_;  // ordered: iteration never depends on addresses
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<NamedTensor> params, AdamWOptions options);
  // model.parameters(): named "0", "1", ... by position (named_by_position).
  AdamW(const std::vector<Tensor>& params, AdamWOptions options) : AdamW(named_by_position(params), options) {}
  AdamW(std::vector<ParamGroup> groups, AdamWOptions options);
};

}  // namespace xgrad
