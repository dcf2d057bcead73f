// The schedules' settings checks and closed forms: see schedule.hpp.
#include "xgrad/optim/schedule.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>

#include "xgrad/core/error.hpp"
#include "xgrad/core/number_text.hpp"
#include "xgrad/optim/optimizer.hpp"  // check_hyper_parameter

namespace xgrad {
namespace {


}  // namespace

Schedule step_schedule(std::int64_t step_size, double gamma) {
  XGRAD_CHECK(step_size > 0, "StepLR: step_size must be > 0, got ", step_size);
  check_hyper_parameter("StepLR", "gamma", gamma, 0.0, HUGE_VAL);
  return {"StepLR(step_size=" + std::to_string(step_size) + ", gamma=" + shortest_text(gamma) + ")",
          [=](double base_lr, std::int64_t step) {
            return base_lr * std::pow(gamma, static_cast<double>(step / step_size));
          }};
}

Schedule multi_step_schedule(std::vector<std::int64_t> milestones, double gamma) {
  for (std::int64_t m : milestones) XGRAD_CHECK(m >= 0, "MultiStepLR: milestones must be >= 0, got ", m);
  check_hyper_parameter("MultiStepLR", "gamma", gamma, 0.0, HUGE_VAL);
  std::sort(milestones.begin(), milestones.end());
  std::string settings = "MultiStepLR(milestones=[";
  for (std::size_t i = 0; i < milestones.size(); ++i) settings += (i ? ", " : "") + std::to_string(milestones[i]);
  settings += "], gamma=" + shortest_text(gamma) + ")";
  return {std::move(settings), [milestones = std::move(milestones), gamma](double base_lr, std::int64_t step) {
            const auto passed = std::upper_bound(milestones.begin(), milestones.end(), step) - milestones.begin();
            return base_lr * std::pow(gamma, static_cast<double>(passed));
          }};
}

Schedule exponential_schedule(double gamma) {
  check_hyper_parameter("ExponentialLR", "gamma", gamma, 0.0, HUGE_VAL);
  return {"ExponentialLR(gamma=" + shortest_text(gamma) + ")",
          [=](double base_lr, std::int64_t step) { return base_lr * std::pow(gamma, static_cast<double>(step)); }};
}

Schedule cosine_annealing_schedule(std::int64_t T_max, double eta_min) {
  XGRAD_CHECK(T_max > 0, "CosineAnnealingLR: T_max must be > 0, got ", T_max);
  check_hyper_parameter("CosineAnnealingLR", "eta_min", eta_min, 0.0, HUGE_VAL);
  return {"CosineAnnealingLR(T_max=" + std::to_string(T_max) + ", eta_min=" + shortest_text(eta_min) + ")",
          [=](double base_lr, std::int64_t step) {
            const double angle = std::numbers::pi * static_cast<double>(step) / static_cast<double>(T_max);
            return eta_min + (base_lr - eta_min) * (1 + std::cos(angle)) / 2;
          }};
}

Schedule linear_schedule(double start_factor, double end_factor, std::int64_t total_iters) {
  XGRAD_CHECK(std::isfinite(start_factor) && start_factor > 0 && start_factor <= 1,
              "LinearLR: start_factor must be in (0, 1], got ", start_factor);
  check_hyper_parameter("LinearLR", "end_factor", end_factor, 0.0, 1.0);
  XGRAD_CHECK(total_iters > 0, "LinearLR: total_iters must be > 0, got ", total_iters);
  return {"LinearLR(start_factor=" + shortest_text(start_factor) + ", end_factor=" + shortest_text(end_factor) +
              ", total_iters=" + std::to_string(total_iters) + ")",
          [=](double base_lr, std::int64_t step) {
            const double done = static_cast<double>(std::min(step, total_iters)) / static_cast<double>(total_iters);
            return base_lr * (start_factor + (end_factor - start_factor) * done);
          }};
}

Schedule one_cycle_schedule(double max_lr, std::int64_t total_steps, const OneCycleOptions& options) {
  check_hyper_parameter("OneCycleLR", "max_lr", max_lr, 0.0, HUGE_VAL);
  XGRAD_CHECK(total_steps > 0, "OneCycleLR: total_steps must be > 0, got ", total_steps);
  check_hyper_parameter("OneCycleLR", "pct_start", options.pct_start, 0.0, 1.0);
  XGRAD_CHECK(options.anneal_strategy == "cos" || options.anneal_strategy == "linear",
              "OneCycleLR: anneal_strategy must be 'cos' or 'linear', got '", options.anneal_strategy, "'");
  XGRAD_CHECK(std::isfinite(options.div_factor) && options.div_factor > 0,
              "OneCycleLR: div_factor must be > 0, got ", options.div_factor);
  XGRAD_CHECK(std::isfinite(options.final_div_factor) && options.final_div_factor > 0,
              "OneCycleLR: final_div_factor must be > 0, got ", options.final_div_factor);
  // PyTorch's phase boundaries, in (possibly fractional) steps.
  struct Phase {
    double end_step, start_lr, end_lr;
  };
  const double initial_lr = max_lr / options.div_factor;
  const double min_lr = initial_lr / options.final_div_factor;
  const double up = options.pct_start * static_cast<double>(total_steps) - 1;
  const double last = static_cast<double>(total_steps - 1);
  std::vector<Phase> phases;
  if (options.three_phase) {
    phases = {{up, initial_lr, max_lr}, {2 * up, max_lr, initial_lr}, {last, initial_lr, min_lr}};
  } else {
    phases = {{up, initial_lr, max_lr}, {last, max_lr, min_lr}};
  }
  double previous = 0;
  for (const Phase& phase : phases) {
    XGRAD_CHECK(phase.end_step > previous, "OneCycleLR: pct_start ", options.pct_start, " with total_steps ",
                total_steps, " leaves a phase with no steps");
    previous = phase.end_step;
  }
  const bool linear = options.anneal_strategy == "linear";
  std::string settings = "OneCycleLR(max_lr=" + shortest_text(max_lr) +
                         ", total_steps=" + std::to_string(total_steps) +
                         ", pct_start=" + shortest_text(options.pct_start) +
                         ", anneal_strategy='" + options.anneal_strategy +
                         "', div_factor=" + shortest_text(options.div_factor) +
                         ", final_div_factor=" + shortest_text(options.final_div_factor) +
                         ", three_phase=" + (options.three_phase ? "true" : "false") + ")";
  auto lr = [phases = std::move(phases), linear](double /*base_lr*/, std::int64_t step_index) {
    const double step = static_cast<double>(step_index);
    double start_step = 0;
    for (std::size_t i = 0; i < phases.size(); ++i) {
      const Phase& phase = phases[i];
      if (step <= phase.end_step || i + 1 == phases.size()) {
        const double pct = (step - start_step) / (phase.end_step - start_step);
        if (linear) return (phase.end_lr - phase.start_lr) * pct + phase.start_lr;
        return phase.end_lr + (phase.start_lr - phase.end_lr) / 2 * (std::cos(std::numbers::pi * pct) + 1);
      }
      start_step = phase.end_step;
    }
    return phases.back().end_lr;  // not reached: the last phase always answers
  };
  return {std::move(settings), std::move(lr), total_steps};
}

}  // namespace xgrad
