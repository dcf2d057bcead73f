// Applying a schedule, and the scheduler's state: see lr_scheduler.hpp.
#include "xgrad/optim/lr_scheduler.hpp"

#include <charconv>
#include <cmath>

#include "xgrad/core/error.hpp"
#include "xgrad/core/number_text.hpp"
#include "xgrad/core/small_vector.hpp"

namespace xgrad {

LRScheduler::LRScheduler(Optimizer& optimizer, Schedule schedule)
    : optimizer_(optimizer), schedule_(std::move(schedule)) {
  XGRAD_CHECK(schedule_.lr, "LRScheduler: schedule '", schedule_.settings, "' has no lr function");
  for (const auto& group : optimizer.param_groups()) base_lrs_.push_back(group.lr);
  for (std::size_t i = 0; i < base_lrs_.size(); ++i) optimizer_.set_lr(i, schedule_.lr(base_lrs_[i], 0));
}

void LRScheduler::step() {
  const std::int64_t epoch = last_epoch_ + 1;
  XGRAD_CHECK(epoch <= schedule_.last_step, describe(), ": step ", epoch, " is past the last step ",
              schedule_.last_step);
  SmallVector<double, 8> lrs;  // inline: a scheduled training step allocates nothing
  for (double base : base_lrs_) lrs.push_back(schedule_.lr(base, epoch));
  for (std::size_t i = 0; i < lrs.size(); ++i) optimizer_.set_lr(i, lrs[i]);
  last_epoch_ = epoch;
}

std::vector<double> LRScheduler::get_last_lr() const {
  std::vector<double> lrs;
  for (double base : base_lrs_) lrs.push_back(schedule_.lr(base, last_epoch_));
  return lrs;
}

std::optional<StateProblem> LRScheduler::find_state_problem(const SchedulerState& s) const {
  const std::int64_t last = schedule_.last_step;
  if (s.last_epoch < 0 || s.last_epoch > last) {
    const std::string range = last == INT64_MAX ? ">= 0" : "in [0, " + std::to_string(last) + "]";
    return StateProblem{{"last_epoch"}, "must be " + range + ", got " + std::to_string(s.last_epoch)};
  }
  if (s.base_lrs.size() != base_lrs_.size()) {
    return StateProblem{{"base_lrs"}, "has " + std::to_string(s.base_lrs.size()) + " values, the optimizer " +
                                          std::to_string(base_lrs_.size()) + " parameter groups"};
  }
  for (std::size_t i = 0; i < s.base_lrs.size(); ++i) {
    if (!std::isfinite(s.base_lrs[i]) || s.base_lrs[i] < 0) {
      return StateProblem{{"base_lrs", std::to_string(i)},
                          "must be finite and >= 0, got " + shortest_text(s.base_lrs[i])};
    }
  }
  return std::nullopt;
}

void LRScheduler::load_state_dict(const SchedulerState& s) {
  if (auto p = find_state_problem(s)) {
    detail::fail(describe(), ": load_state_dict: field '", path_str(p->path), "' ", p->message);
  }
  last_epoch_ = s.last_epoch;
  base_lrs_ = s.base_lrs;
}

}  // namespace xgrad
