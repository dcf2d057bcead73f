// Optimizer: the base of SGD, Adam and AdamW. It holds parameter groups (each with its own lr and
// weight_decay) and per-parameter state keyed by the parameter's dotted name, so that a checkpoint can
// save and restore it by name. It is not a training loop: gradients come from backward().
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/core/named_tensor.hpp"
#include "xgrad/core/tensor.hpp"

namespace xgrad {

// Parameters that share a learning rate and weight decay; unset values take the optimizer's options.
struct ParamGroup {
  std::vector<NamedTensor> params;
  std::optional<double> lr;
  std::optional<double> weight_decay;
};

// One parameter's state in the generic, named form that state_dict() exchanges and checkpoints save.
// Each optimizer keeps its own typed struct (SGDParamState, AdamParamState) and converts.
struct ParamState {
  std::int64_t step = 0;                  // updates applied to this parameter (Adam's t), >= 1 once stepped
  std::map<std::string, Tensor> buffers;  // "momentum_buffer", "exp_avg", ...: each of the parameter's shape
};

// Everything in an optimizer that changes while training, laid out like the checkpoint's "optimizer"
// section. The settings that define the algorithm (momentum, betas, ...) are not state: see options().
struct OptimizerState {
  struct Group {
    double lr = 0;
    double weight_decay = 0;
    std::vector<std::string> params;  // names, in the group's order
  };
  std::vector<Group> param_groups;
  std::map<std::string, ParamState> state;  // only parameters that have been stepped
};

// A problem found in a state before anything was changed, at `path` within the state's layout
// ({"state", "fc.weight", "exp_avg"}); the checkpoint turns the path into a JSON pointer into its file.
struct StateProblem {
  std::vector<std::string> path;
  std::string message;
};
// The path as "/state/fc.weight/exp_avg", for messages.
std::string path_str(const std::vector<std::string>& path);

class Optimizer {
 public:
  struct Group {
    std::vector<NamedTensor> params;
    double lr;
    double weight_decay;
  };

  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Fills every parameter's gradient with zeros in place, like Module::zero_grad.
  void zero_grad();
  // One update of every parameter that has a gradient; parameters without one are skipped.
  void step();

  const std::string& type() const { return type_; }  // "SGD", "Adam", "AdamW"
  const std::vector<Group>& param_groups() const { return groups_; }
  void set_lr(std::size_t group, double lr);  // what schedules call
  // The settings other than lr and weight_decay, by PyTorch name ("momentum", "beta1"); flags are 0 or 1.
  virtual std::vector<std::pair<std::string, double>> options() const = 0;
  // The buffers a parameter's state holds once it has been stepped, e.g. {"exp_avg", "exp_avg_sq"}.
  virtual std::vector<std::string> state_buffers() const = 0;

  // A copy of the state in its named form: later steps do not change it.
  OptimizerState state_dict() const;
  // The first mismatch between `s` and this optimizer (groups, names, buffers, shapes, steps), if any.
  std::optional<StateProblem> find_state_problem(const OptimizerState& s) const;
  // Throws xgrad::Error naming the field if find_state_problem finds one (nothing changes); else copies
  // `s` in: the groups' lr and weight_decay and every parameter's state.
  void load_state_dict(const OptimizerState& s);

 protected:
  // `lr` and `weight_decay` are the defaults for groups that do not set their own.
  Optimizer(std::string type, std::vector<ParamGroup> groups, double lr, double weight_decay);
  // Updates the parameter `name` in place from `grad`, advancing the derived class's typed state for it.
  virtual void update(const std::string& name, Tensor& param, const Tensor& grad, const Group& group) = 0;
  // The typed state of every stepped parameter, converted to and from the named form. `set_named_state`
  // gets a state find_state_problem accepted, with buffers already copied.
  virtual std::map<std::string, ParamState> named_state() const = 0;
  virtual void set_named_state(std::map<std::string, ParamState> state) = 0;

 private:
  std::string type_;
  std::vector<Group> groups_;
};

// A plain list of parameters (model.parameters()) named by position, "0", "1", ..., as PyTorch's optimizer
// state_dict keys them: what the optimizers' list constructors use. Named parameters are better for
// checkpoints, whose optimizer state then survives a change in the model's parameter order.
std::vector<NamedTensor> named_by_position(const std::vector<Tensor>& params);

// Checks a hyper-parameter of `op`: finite and within [low, high] (or [low, high) if !high_closed); high
// may be HUGE_VAL for "no upper bound".
void check_hyper_parameter(const std::string& op, const char* name, double value, double low, double high,
                           bool high_closed = true);

}  // namespace xgrad
