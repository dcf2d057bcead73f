// LRScheduler: applies a Schedule (schedule.hpp) to an optimizer's parameter groups. Each lr is the
// schedule's closed form of (base lr, step), so a scheduler's whole state is last_epoch and base_lrs and
// resuming is exact. StepLR, MultiStepLR, ... are LRSchedulers built from the schedule of that name, with
// PyTorch's constructor arguments; any other Schedule can be given to LRScheduler directly.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/optim/optimizer.hpp"
#include "xgrad/optim/schedule.hpp"

namespace xgrad {

// What changes while a schedule runs; its settings are the schedule's, compared by text.
struct SchedulerState {
  std::int64_t last_epoch = 0;
  std::vector<double> base_lrs;  // one per parameter group
};

class LRScheduler {
 public:
  // Records each group's current lr as its base lr and sets the lrs of step 0, as PyTorch's constructors
  // step once.
  LRScheduler(Optimizer& optimizer, Schedule schedule);
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // Advances one epoch (one batch for OneCycleLR) and sets every group's lr.
  void step();
  std::int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  std::vector<double> get_last_lr() const;  // the lrs the last step() (or the constructor) set
  const Schedule& schedule() const { return schedule_; }
  // The schedule's settings: "StepLR(step_size=30, gamma=0.1)".
  const std::string& describe() const { return schedule_.settings; }

  SchedulerState state_dict() const { return {last_epoch_, base_lrs_}; }
  // The first mismatch between `s` and this schedule, if any.
  std::optional<StateProblem> find_state_problem(const SchedulerState& s) const;
  // Throws xgrad::Error naming the field if find_state_problem finds one (nothing changes). The groups'
  // lrs are not touched: the optimizer's own state holds them, as in PyTorch.
  void load_state_dict(const SchedulerState& s);

 private:
  Optimizer& optimizer_;
  Schedule schedule_;
  std::vector<double> base_lrs_;
  std::int64_t last_epoch_ = 0;
};

class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1)
      : LRScheduler(optimizer, step_schedule(step_size, gamma)) {}
};

class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<std::int64_t> milestones, double gamma = 0.1)
      : LRScheduler(optimizer, multi_step_schedule(std::move(milestones), gamma)) {}
};

class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma) : LRScheduler(optimizer, exponential_schedule(gamma)) {}
};

class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min = 0)
      : LRScheduler(optimizer, cosine_annealing_schedule(T_max, eta_min)) {}
};

class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0, std::int64_t total_iters = 5)
      : LRScheduler(optimizer, linear_schedule(start_factor, end_factor, total_iters)) {}
};

class LambdaLR : public LRScheduler {
 public:
  LambdaLR(Optimizer& optimizer, std::function<double(std::int64_t)> lr_lambda, std::string name = "lr_lambda")
      : LRScheduler(optimizer, lambda_schedule(std::move(lr_lambda), std::move(name))) {}
};

// Given schedules (the factories of schedule.hpp), not scheduler objects: SequentialLR(opt,
// {linear_schedule(0.1, 1, 5), cosine_annealing_schedule(95)}, {5}) warms up for 5 steps, then anneals.
class SequentialLR : public LRScheduler {
 public:
  SequentialLR(Optimizer& optimizer, std::vector<Schedule> schedules, std::vector<std::int64_t> milestones)
      : LRScheduler(optimizer, sequential_schedule(std::move(schedules), std::move(milestones))) {}
};

class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, double max_lr, std::int64_t total_steps, OneCycleOptions options = {})
      : LRScheduler(optimizer, one_cycle_schedule(max_lr, total_steps, options)) {}
};

}  // namespace xgrad
