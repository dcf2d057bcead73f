// Learning-rate schedules as functions of the step: each factory checks its settings and returns the lr of
// any step as a closed form of (the group's base lr, step), named and defaulted like
// torch.optim.lr_scheduler. A schedule holds no state and needs no optimizer; LRScheduler applies one.
// Momentum is not cycled (one_cycle_schedule behaves like PyTorch's OneCycleLR with cycle_momentum=False).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace xgrad {

struct Schedule {
  // The type and its settings, like PyTorch's repr: "StepLR(step_size=30, gamma=0.1)". Checkpoints compare
  // it, so two schedules with the same settings must have the same text.
  std::string settings;
  // The lr at `step` (an epoch, or a batch for one-cycle), step 0 being the lr right after construction.
  std::function<double(double base_lr, std::int64_t step)> lr;
  std::int64_t last_step = INT64_MAX;  // the largest step the schedule is defined for
};

// lr = base_lr * gamma^floor(step / step_size)
Schedule step_schedule(std::int64_t step_size, double gamma = 0.1);
// lr = base_lr * gamma^(number of milestones <= step); a repeated milestone counts each time, as in PyTorch
Schedule multi_step_schedule(std::vector<std::int64_t> milestones, double gamma = 0.1);
// lr = base_lr * gamma^step
Schedule exponential_schedule(double gamma);
// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2
Schedule cosine_annealing_schedule(std::int64_t T_max, double eta_min = 0);
// Linear warm-up: lr = base_lr * (start_factor + (end_factor - start_factor) * min(step, total_iters) / total_iters)
Schedule linear_schedule(double start_factor = 1.0 / 3, double end_factor = 1.0, std::int64_t total_iters = 5);

// lr = base_lr * lr_lambda(step), as PyTorch's LambdaLR. A function has no text to compare, so `name`
// stands for it in the settings ("LambdaLR(lr_lambda=warmup)"): give two different functions different
// names, or a checkpoint of one will load into the other.
Schedule lambda_schedule(std::function<double(std::int64_t)> lr_lambda, std::string name = "lr_lambda");
// PyTorch's SequentialLR: schedules[0] until milestones[0], then schedules[1] restarted at step 0, ...:
// lr = schedules[i].lr(base_lr, step - milestones[i - 1]) for milestones[i - 1] <= step < milestones[i].
// Warm-up then cosine: sequential_schedule({linear_schedule(0.1, 1, 5), cosine_annealing_schedule(95)}, {5}).
Schedule sequential_schedule(std::vector<Schedule> schedules, std::vector<std::int64_t> milestones);

// Smith's one-cycle policy, stepped once per batch: from max_lr / div_factor up to max_lr over the first
// pct_start of total_steps, then down to max_lr / div_factor / final_div_factor (three_phase: back to the
// initial lr first, then down). The groups' base lrs are ignored, as in PyTorch.
struct OneCycleOptions {
  double pct_start = 0.3;
  std::string anneal_strategy = "cos";  // or "linear"
  double div_factor = 25;
  double final_div_factor = 1e4;
  bool three_phase = false;
};
Schedule one_cycle_schedule(double max_lr, std::int64_t total_steps, const OneCycleOptions& options = {});

}  // namespace xgrad
