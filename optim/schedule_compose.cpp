// Schedules built from a user's function or from other schedules: LambdaLR's and SequentialLR's closed
// forms (see schedule.hpp).
#include <algorithm>
#include <cmath>

#include "xgrad/core/error.hpp"
#include "xgrad/optim/schedule.hpp"

namespace xgrad {

Schedule lambda_schedule(std::function<double(std::int64_t)> lr_lambda, std::string name) {
  XGRAD_CHECK(lr_lambda != nullptr, "LambdaLR: lr_lambda is empty");
  XGRAD_CHECK(!name.empty(), "LambdaLR: the name standing for lr_lambda is empty");
  return {"LambdaLR(lr_lambda=" + name + ")", [f = std::move(lr_lambda), name](double base_lr, std::int64_t step) {
            const double factor = f(step);
            XGRAD_CHECK(std::isfinite(factor) && factor >= 0, "LambdaLR(lr_lambda=", name, "): the factor at step ",
                        step, " is ", factor, ", not a finite number >= 0");
            return base_lr * factor;
          }};
}

Schedule sequential_schedule(std::vector<Schedule> schedules, std::vector<std::int64_t> milestones) {
  XGRAD_CHECK(!schedules.empty(), "SequentialLR: no schedules");
  XGRAD_CHECK(milestones.size() + 1 == schedules.size(), "SequentialLR: ", schedules.size(),
              " schedules need ", schedules.size() - 1, " milestones, got ", milestones.size());
  std::string settings = "SequentialLR(schedulers=[";
  for (std::size_t i = 0; i < schedules.size(); ++i) {
    XGRAD_CHECK(schedules[i].lr != nullptr, "SequentialLR: schedule ", i, " has no lr function");
    const std::int64_t start = i == 0 ? 0 : milestones[i - 1];
    if (i < milestones.size()) {
      XGRAD_CHECK(milestones[i] > start, "SequentialLR: milestones must increase from > 0, got ", milestones[i],
                  " after ", start);
      // Each schedule but the last runs its steps 0 .. milestones[i] - start - 1 (PyTorch reaches the next
      // one at the milestone itself).
      XGRAD_CHECK(milestones[i] - start - 1 <= schedules[i].last_step, "SequentialLR: ", schedules[i].settings,
                  " ends at step ", schedules[i].last_step, ", before milestone ", milestones[i]);
    }
    settings += (i ? ", " : "") + schedules[i].settings;
  }
  settings += "], milestones=[";
  for (std::size_t i = 0; i < milestones.size(); ++i) settings += (i ? ", " : "") + std::to_string(milestones[i]);
  settings += "])";
  const Schedule& tail = schedules.back();
  const std::int64_t offset = milestones.empty() ? 0 : milestones.back();
  const std::int64_t last = tail.last_step == INT64_MAX ? INT64_MAX : offset + tail.last_step;
  auto lr = [schedules = std::move(schedules), milestones = std::move(milestones)](double base_lr, std::int64_t step) {
    const auto i = static_cast<std::size_t>(std::upper_bound(milestones.begin(), milestones.end(), step) -
                                            milestones.begin());
    const std::int64_t start = i == 0 ? 0 : milestones[i - 1];
    return schedules[i].lr(base_lr, step - start);
  };
  return {std::move(settings), std::move(lr), last};
}

}  // namespace xgrad
