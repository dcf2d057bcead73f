// Optimizer groups, the step loop, and the state's copy, check and load: see optimizer.hpp.
#include "xgrad/optim/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "xgrad/core/error.hpp"

namespace xgrad {
namespace {

std::string names_str(const std::vector<std::string>& names) {
  std::string out = "(";
  for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out + ")";
}

}  // namespace

std::string path_str(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& part : path) out += "/" + part;
  return out;
}

std::vector<NamedTensor> named_by_position(const std::vector<Tensor>& params) {
  std::vector<NamedTensor> out;
  out.reserve(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) out.emplace_back(std::to_string(i), params[i]);
  return out;
}

void check_hyper_parameter(const std::string& op, const char* name, double value, double low, double high,
                           bool high_closed) {
  const bool ok = std::isfinite(value) && value >= low && (high_closed ? value <= high : value < high);
  if (std::isinf(high)) XGRAD_CHECK(ok, op, ": ", name, " must be finite and >= ", low, ", got ", value);
  XGRAD_CHECK(ok, op, ": ", name, " must be in [", low, ", ", high, high_closed ? "]" : ")", ", got ", value);
}

Optimizer::Optimizer(std::string type, std::vector<ParamGroup> groups, double lr, double weight_decay)
    : type_(std::move(type)) {
  check_hyper_parameter(type_, "lr", lr, 0.0, HUGE_VAL);
  check_hyper_parameter(type_, "weight_decay", weight_decay, 0.0, HUGE_VAL);
  std::set<std::string> seen;
  std::map<const float*, std::string> memory;
  for (auto& group : groups) {
    const double group_lr = group.lr.value_or(lr);
    const double group_decay = group.weight_decay.value_or(weight_decay);
    check_hyper_parameter(type_, "a group's lr", group_lr, 0.0, HUGE_VAL);
    check_hyper_parameter(type_, "a group's weight_decay", group_decay, 0.0, HUGE_VAL);
    for (const auto& [name, t] : group.params) {
      XGRAD_CHECK(t.defined(), type_, ": parameter '", name, "' is undefined");
      XGRAD_CHECK(seen.insert(name).second, type_, ": parameter '", name, "' is given twice");
      // One tensor under two names would be stepped twice per step(): its memory identifies it.
      if (t.numel() == 0) continue;
      const auto [it, fresh] = memory.emplace(t.data(), name);
      XGRAD_CHECK(fresh, type_, ": parameters '", it->second, "' and '", name,
                  "' are the same tensor (listed twice, it would be updated twice per step)");
    }
    groups_.push_back({std::move(group.params), group_lr, group_decay});
  }
  XGRAD_CHECK(!seen.empty(), type_, ": got an empty parameter list");
}

void Optimizer::zero_grad() {
  for (auto& group : groups_) {
    for (auto& [name, t] : group.params) t.zero_grad();
  }
}

void Optimizer::step() {
  for (const auto& group : groups_) {
    for (const auto& [name, p] : group.params) {
      Tensor param = p;  // a handle (update() takes it non-const); copying the name would allocate
      const Tensor grad = param.grad();
      if (!grad.defined()) continue;
      XGRAD_CHECK(grad.shape() == param.shape(), type_, ": the gradient of '", name, "' has shape ",
                  shape_str(grad.shape()), ", the parameter ", shape_str(param.shape()));
      update(name, param, grad, group);
    }
  }
}

void Optimizer::set_lr(std::size_t group, double lr) {
  XGRAD_CHECK(group < groups_.size(), type_, ": set_lr: group ", group, " of ", groups_.size());
  check_hyper_parameter(type_, "lr", lr, 0.0, HUGE_VAL);
  groups_[group].lr = lr;
}

OptimizerState Optimizer::state_dict() const {
  OptimizerState s;
  for (const auto& group : groups_) {
    OptimizerState::Group g{group.lr, group.weight_decay, {}};
    for (const auto& [name, t] : group.params) g.params.push_back(name);
    s.param_groups.push_back(std::move(g));
  }
  s.state = named_state();
  for (auto& [name, ps] : s.state) {
    for (auto& [buffer, t] : ps.buffers) t = t.clone();
  }
  return s;
}

std::optional<StateProblem> Optimizer::find_state_problem(const OptimizerState& s) const {
  auto problem = [](std::vector<std::string> path, auto... parts) {
    std::ostringstream message;
    (message << ... << parts);
    return std::optional<StateProblem>(StateProblem{std::move(path), message.str()});
  };
  if (s.param_groups.size() != groups_.size()) {
    return problem({"param_groups"}, "has ", s.param_groups.size(), " groups, ", type_, " has ", groups_.size());
  }
  std::map<std::string, const Tensor*> params;
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    const std::vector<std::string> at{"param_groups", std::to_string(i)};
    auto in_group = [&](const char* field) { return std::vector<std::string>{at[0], at[1], field}; };
    std::vector<std::string> names;
    for (const auto& [name, t] : groups_[i].params) {
      names.push_back(name);
      params[name] = &t;
    }
    const OptimizerState::Group& g = s.param_groups[i];
    if (g.params != names) {
      return problem(in_group("params"), "lists ", names_str(g.params), ", ", type_, "'s group ", i, " has ",
                     names_str(names));
    }
    if (!std::isfinite(g.lr) || g.lr < 0) return problem(in_group("lr"), "must be finite and >= 0, got ", g.lr);
    if (!std::isfinite(g.weight_decay) || g.weight_decay < 0) {
      return problem(in_group("weight_decay"), "must be finite and >= 0, got ", g.weight_decay);
    }
  }
  const std::vector<std::string> expected = state_buffers();
  for (const auto& entry : s.state) {
    // A named reference, not a structured binding: clang 14 cannot capture those in a lambda.
    const std::string& name = entry.first;
    const auto& ps = entry.second;
    auto at = [&](auto... more) { return std::vector<std::string>{"state", name, std::string(more)...}; };
    auto param = params.find(name);
    if (param == params.end()) return problem(at(), "no parameter of ", type_, " is named '", name, "'");
    if (ps.step < 1) return problem(at("step"), "must be >= 1, got ", ps.step);
    for (const std::string& buffer : expected) {
      if (!ps.buffers.count(buffer)) return problem(at(buffer), "is missing");
    }
    for (const auto& [buffer, t] : ps.buffers) {
      if (std::find(expected.begin(), expected.end(), buffer) == expected.end()) {
        return problem(at(buffer), "is not a buffer of ", type_, ", which keeps ",
                       names_str(expected));
      }
      if (!t.defined()) return problem(at(buffer), "is undefined");
      if (t.shape() != param->second->shape()) {
        return problem(at(buffer, "shape"), "is ", shape_str(t.shape()), ", the parameter's is ",
                       shape_str(param->second->shape()));
      }
    }
  }
  return std::nullopt;
}

void Optimizer::load_state_dict(const OptimizerState& s) {
  if (auto p = find_state_problem(s)) {
    detail::fail(type_, ": load_state_dict: field '", path_str(p->path), "' ", p->message);
  }
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    groups_[i].lr = s.param_groups[i].lr;
    groups_[i].weight_decay = s.param_groups[i].weight_decay;
  }
  std::map<std::string, ParamState> state;
  for (const auto& [name, ps] : s.state) {
    ParamState copy{ps.step, {}};
    for (const auto& [buffer, t] : ps.buffers) copy.buffers.emplace(buffer, t.clone());
    state.emplace(name, std::move(copy));
  }
  set_named_state(std::move(state));
}

}  // namespace xgrad
