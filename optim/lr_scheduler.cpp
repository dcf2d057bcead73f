// The schedules' closed forms, settings checks and state: see lr_scheduler.hpp.
#include "xgrad/optim/lr_scheduler.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>

#include "xgrad/core/error.hpp"

namespace xgrad {
namespace {

// The shortest text that reads back as the same double, so describe() compares settings exactly.
std::string num(double x) {
  char buffer[32];
  return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, x).ptr);
}

}  // namespace

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (const auto& group : optimizer.param_groups()) base_lrs_.push_back(group.lr);
}

void LRScheduler::start() {
  for (std::size_t i = 0; i < base_lrs_.size(); ++i) optimizer_.set_lr(i, lr_at(base_lrs_[i], 0));
}

void LRScheduler::step() {
  const std::int64_t epoch = last_epoch_ + 1;
  XGRAD_CHECK(epoch <= max_epoch(), describe(), ": step ", epoch, " is past the last step ", max_epoch());
  std::vector<double> lrs;
  for (double base : base_lrs_) lrs.push_back(lr_at(base, epoch));
  for (std::size_t i = 0; i < lrs.size(); ++i) optimizer_.set_lr(i, lrs[i]);
  last_epoch_ = epoch;
}

std::vector<double> LRScheduler::get_last_lr() const {
  std::vector<double> lrs;
  for (double base : base_lrs_) lrs.push_back(lr_at(base, last_epoch_));
  return lrs;
}

std::optional<StateProblem> LRScheduler::find_state_problem(const SchedulerState& s) const {
  if (s.last_epoch < 0 || s.last_epoch > max_epoch()) {
    const std::string range = max_epoch() == INT64_MAX ? ">= 0" : "in [0, " + std::to_string(max_epoch()) + "]";
    return StateProblem{"/last_epoch", "must be " + range + ", got " + std::to_string(s.last_epoch)};
  }
  if (s.base_lrs.size() != base_lrs_.size()) {
    return StateProblem{"/base_lrs", "has " + std::to_string(s.base_lrs.size()) + " values, the optimizer " +
                                         std::to_string(base_lrs_.size()) + " parameter groups"};
  }
  for (std::size_t i = 0; i < s.base_lrs.size(); ++i) {
    if (!std::isfinite(s.base_lrs[i]) || s.base_lrs[i] < 0) {
      return StateProblem{"/base_lrs/" + std::to_string(i), "must be finite and >= 0, got " + num(s.base_lrs[i])};
    }
  }
  return std::nullopt;
}

void LRScheduler::load_state_dict(const SchedulerState& s) {
  if (auto p = find_state_problem(s)) {
    detail::fail(describe(), ": load_state_dict: field '", p->field, "' ", p->message);
  }
  last_epoch_ = s.last_epoch;
  base_lrs_ = s.base_lrs;
}

StepLR::StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  XGRAD_CHECK(step_size > 0, "StepLR: step_size must be > 0, got ", step_size);
  check_hyper_parameter("StepLR", "gamma", gamma, 0.0, HUGE_VAL);
  start();
}

std::string StepLR::describe() const {
  return "StepLR(step_size=" + std::to_string(step_size_) + ", gamma=" + num(gamma_) + ")";
}

double StepLR::lr_at(double base_lr, std::int64_t epoch) const {
  return base_lr * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<std::int64_t> milestones, double gamma)
    : LRScheduler(optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
  for (std::int64_t m : milestones_) XGRAD_CHECK(m >= 0, "MultiStepLR: milestones must be >= 0, got ", m);
  check_hyper_parameter("MultiStepLR", "gamma", gamma, 0.0, HUGE_VAL);
  std::sort(milestones_.begin(), milestones_.end());
  start();
}

std::string MultiStepLR::describe() const {
  std::string out = "MultiStepLR(milestones=[";
  for (std::size_t i = 0; i < milestones_.size(); ++i) out += (i ? ", " : "") + std::to_string(milestones_[i]);
  return out + "], gamma=" + num(gamma_) + ")";
}

double MultiStepLR::lr_at(double base_lr, std::int64_t epoch) const {
  // Milestones reached so far; a repeated milestone counts each time, as in PyTorch.
  const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), epoch) - milestones_.begin();
  return base_lr * std::pow(gamma_, static_cast<double>(passed));
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma) : LRScheduler(optimizer), gamma_(gamma) {
  check_hyper_parameter("ExponentialLR", "gamma", gamma, 0.0, HUGE_VAL);
  start();
}

std::string ExponentialLR::describe() const { return "ExponentialLR(gamma=" + num(gamma_) + ")"; }

double ExponentialLR::lr_at(double base_lr, std::int64_t epoch) const {
  return base_lr * std::pow(gamma_, static_cast<double>(epoch));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min)
    : LRScheduler(optimizer), T_max_(T_max), eta_min_(eta_min) {
  XGRAD_CHECK(T_max > 0, "CosineAnnealingLR: T_max must be > 0, got ", T_max);
  check_hyper_parameter("CosineAnnealingLR", "eta_min", eta_min, 0.0, HUGE_VAL);
  start();
}

std::string CosineAnnealingLR::describe() const {
  return "CosineAnnealingLR(T_max=" + std::to_string(T_max_) + ", eta_min=" + num(eta_min_) + ")";
}

double CosineAnnealingLR::lr_at(double base_lr, std::int64_t epoch) const {
  const double angle = std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(T_max_);
  return eta_min_ + (base_lr - eta_min_) * (1 + std::cos(angle)) / 2;
}

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor, std::int64_t total_iters)
    : LRScheduler(optimizer), start_factor_(start_factor), end_factor_(end_factor), total_iters_(total_iters) {
  XGRAD_CHECK(std::isfinite(start_factor) && start_factor > 0 && start_factor <= 1,
              "LinearLR: start_factor must be in (0, 1], got ", start_factor);
  check_hyper_parameter("LinearLR", "end_factor", end_factor, 0.0, 1.0);
  XGRAD_CHECK(total_iters > 0, "LinearLR: total_iters must be > 0, got ", total_iters);
  start();
}

std::string LinearLR::describe() const {
  return "LinearLR(start_factor=" + num(start_factor_) + ", end_factor=" + num(end_factor_) +
         ", total_iters=" + std::to_string(total_iters_) + ")";
}

double LinearLR::lr_at(double base_lr, std::int64_t epoch) const {
  const double done = static_cast<double>(std::min(epoch, total_iters_)) / static_cast<double>(total_iters_);
  return base_lr * (start_factor_ + (end_factor_ - start_factor_) * done);
}

OneCycleLR::OneCycleLR(Optimizer& optimizer, double max_lr, std::int64_t total_steps, OneCycleOptions options)
    : LRScheduler(optimizer), max_lr_(max_lr), total_steps_(total_steps), options_(std::move(options)) {
  check_hyper_parameter("OneCycleLR", "max_lr", max_lr, 0.0, HUGE_VAL);
  XGRAD_CHECK(total_steps > 0, "OneCycleLR: total_steps must be > 0, got ", total_steps);
  check_hyper_parameter("OneCycleLR", "pct_start", options_.pct_start, 0.0, 1.0);
  XGRAD_CHECK(options_.anneal_strategy == "cos" || options_.anneal_strategy == "linear",
              "OneCycleLR: anneal_strategy must be 'cos' or 'linear', got '", options_.anneal_strategy, "'");
  XGRAD_CHECK(std::isfinite(options_.div_factor) && options_.div_factor > 0,
              "OneCycleLR: div_factor must be > 0, got ", options_.div_factor);
  XGRAD_CHECK(std::isfinite(options_.final_div_factor) && options_.final_div_factor > 0,
              "OneCycleLR: final_div_factor must be > 0, got ", options_.final_div_factor);
  // PyTorch's phase boundaries, in (possibly fractional) steps.
  const double initial_lr = max_lr / options_.div_factor;
  const double min_lr = initial_lr / options_.final_div_factor;
  const double up = options_.pct_start * static_cast<double>(total_steps) - 1;
  const double last = static_cast<double>(total_steps - 1);
  if (options_.three_phase) {
    phases_ = {{up, initial_lr, max_lr}, {2 * up, max_lr, initial_lr}, {last, initial_lr, min_lr}};
  } else {
    phases_ = {{up, initial_lr, max_lr}, {last, max_lr, min_lr}};
  }
  double previous = 0;
  for (const Phase& phase : phases_) {
    XGRAD_CHECK(phase.end_step > previous, "OneCycleLR: pct_start ", options_.pct_start, " with total_steps ",
                total_steps, " leaves a phase with no steps");
    previous = phase.end_step;
  }
  start();
}

std::string OneCycleLR::describe() const {
  return "OneCycleLR(max_lr=" + num(max_lr_) + ", total_steps=" + std::to_string(total_steps_) +
         ", pct_start=" + num(options_.pct_start) + ", anneal_strategy='" + options_.anneal_strategy +
         "', div_factor=" + num(options_.div_factor) + ", final_div_factor=" + num(options_.final_div_factor) +
         ", three_phase=" + (options_.three_phase ? "true" : "false") + ")";
}

double OneCycleLR::lr_at(double /*base_lr*/, std::int64_t epoch) const {
  const double step = static_cast<double>(epoch);
  double start_step = 0;
  for (std::size_t i = 0; i < phases_.size(); ++i) {
    const Phase& phase = phases_[i];
    if (step <= phase.end_step || i + 1 == phases_.size()) {
      const double pct = (step - start_step) / (phase.end_step - start_step);
      if (options_.anneal_strategy == "linear") return (phase.end_lr - phase.start_lr) * pct + phase.start_lr;
      return phase.end_lr + (phase.start_lr - phase.end_lr) / 2 * (std::cos(std::numbers::pi * pct) + 1);
    }
    start_step = phase.end_step;
  }
  return phases_.back().end_lr;  // not reached: the last phase always answers
}

}  // namespace xgrad
