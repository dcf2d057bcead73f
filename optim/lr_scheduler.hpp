// Learning-rate schedules: step, multi-step, exponential, cosine annealing, linear warm-up and
// one-cycle, named and defaulted like torch.optim.lr_scheduler. Each lr is the closed form of
// (base lr, epoch), so a schedule's whole state is last_epoch and base_lrs and resuming is exact.
// Momentum is not cycled (OneCycleLR behaves like PyTorch's with cycle_momentum=False).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xgrad/optim/optimizer.hpp"

namespace xgrad {

// What changes while a schedule runs; its settings (gamma, T_max, ...) are code, checked by describe().
struct SchedulerState {
  std::int64_t last_epoch = 0;
  std::vector<double> base_lrs;  // one per parameter group
};

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // Advances one epoch (one batch for OneCycleLR) and sets every group's lr.
  void step();
  std::int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  std::vector<double> get_last_lr() const;  // the lrs the last step() (or the constructor) set

  // The type and its settings, like PyTorch's repr: "StepLR(step_size=30, gamma=0.1)".
  virtual std::string describe() const = 0;

  SchedulerState state_dict() const { return {last_epoch_, base_lrs_}; }
  // The first mismatch between `s` and this schedule (field as a JSON pointer), if any.
  std::optional<StateProblem> find_state_problem(const SchedulerState& s) const;
  // Throws xgrad::Error naming the field if find_state_problem finds one (nothing changes). The groups'
  // lrs are not touched: the optimizer's own state holds them, as in PyTorch.
  void load_state_dict(const SchedulerState& s);

 protected:
  // Records each group's current lr as its base lr.
  explicit LRScheduler(Optimizer& optimizer);
  // Sets the lrs of epoch 0; each derived constructor calls it last, as PyTorch's constructors step once.
  void start();
  virtual double lr_at(double base_lr, std::int64_t epoch) const = 0;
  // The largest epoch the schedule is defined for.
  virtual std::int64_t max_epoch() const { return INT64_MAX; }

 private:
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  std::int64_t last_epoch_ = 0;
};

// lr = base_lr * gamma^floor(epoch / step_size)
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1);
  std::string describe() const override;

 private:
  double lr_at(double base_lr, std::int64_t epoch) const override;
  std::int64_t step_size_;
  double gamma_;
};

// lr = base_lr * gamma^(number of milestones <= epoch)
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<std::int64_t> milestones, double gamma = 0.1);
  std::string describe() const override;

 private:
  double lr_at(double base_lr, std::int64_t epoch) const override;
  std::vector<std::int64_t> milestones_;  // sorted
  double gamma_;
};

// lr = base_lr * gamma^epoch
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);
  std::string describe() const override;

 private:
  double lr_at(double base_lr, std::int64_t epoch) const override;
  double gamma_;
};

// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min = 0);
  std::string describe() const override;

 private:
  double lr_at(double base_lr, std::int64_t epoch) const override;
  std::int64_t T_max_;
  double eta_min_;
};

// Linear warm-up: lr = base_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters)
// / total_iters).
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0,
           std::int64_t total_iters = 5);
  std::string describe() const override;

 private:
  double lr_at(double base_lr, std::int64_t epoch) const override;
  double start_factor_, end_factor_;
  std::int64_t total_iters_;
};

// Smith's one-cycle policy, stepped once per batch: from max_lr / div_factor up to max_lr over the first
// pct_start of total_steps, then down to max_lr / div_factor / final_div_factor (three_phase: back to the
// initial lr first, then down). The optimizer's own lrs are ignored, as in PyTorch.
struct OneCycleOptions {
  double pct_start = 0.3;
  std::string anneal_strategy = "cos";  // or "linear"
  double div_factor = 25;
  double final_div_factor = 1e4;
  bool three_phase = false;
};

class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, double max_lr, std::int64_t total_steps, OneCycleOptions options = {});
  std::string describe() const override;

 private:
  struct Phase {
    double end_step, start_lr, end_lr;
  };
  double lr_at(double base_lr, std::int64_t epoch) const override;
  std::int64_t max_epoch() const override { return total_steps_; }
  double max_lr_;
  std::int64_t total_steps_;
  OneCycleOptions options_;
  std::vector<Phase> phases_;
};

}  // namespace xgrad
