// ReduceLROnPlateau: see reduce_lr_on_plateau.hpp. The rules are PyTorch's, step for step.
#include "xgrad/optim/reduce_lr_on_plateau.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "xgrad/core/error.hpp"
#include "xgrad/core/number_text.hpp"

namespace xgrad {
namespace {


}  // namespace

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : optimizer_(optimizer), options_(std::move(options)) {
  const ReduceLROnPlateauOptions& o = options_;
  const char* op = "ReduceLROnPlateau";
  XGRAD_CHECK(o.mode == "min" || o.mode == "max", op, ": mode must be 'min' or 'max', got '", o.mode, "'");
  XGRAD_CHECK(o.threshold_mode == "rel" || o.threshold_mode == "abs", op, ": threshold_mode must be 'rel' or "
              "'abs', got '", o.threshold_mode, "'");
  XGRAD_CHECK(std::isfinite(o.factor) && o.factor >= 0 && o.factor < 1, op, ": factor must be in [0, 1), got ",
              o.factor);
  XGRAD_CHECK(o.patience >= 0, op, ": patience must be >= 0, got ", o.patience);
  XGRAD_CHECK(o.cooldown >= 0, op, ": cooldown must be >= 0, got ", o.cooldown);
  check_hyper_parameter(op, "threshold", o.threshold, 0.0, HUGE_VAL);
  check_hyper_parameter(op, "eps", o.eps, 0.0, HUGE_VAL);
  const std::size_t groups = optimizer.param_groups().size();
  XGRAD_CHECK(o.min_lr.size() == 1 || o.min_lr.size() == groups, op, ": min_lr has ", o.min_lr.size(),
              " values for ", groups, " parameter groups (give one, or one per group)");
  for (double m : o.min_lr) check_hyper_parameter(op, "min_lr", m, 0.0, HUGE_VAL);
  min_lrs_ = o.min_lr.size() == 1 ? std::vector<double>(groups, o.min_lr[0]) : o.min_lr;
  state_.best = o.mode == "min" ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
}

// min, rel: a < best (1 - threshold);  min, abs: a < best - threshold;  max mirrors with + and >.
bool ReduceLROnPlateau::is_better(double a, double best) const {
  const bool rel = options_.threshold_mode == "rel";
  if (options_.mode == "min") return a < (rel ? best * (1 - options_.threshold) : best - options_.threshold);
  return a > (rel ? best * (options_.threshold + 1) : best + options_.threshold);
}

void ReduceLROnPlateau::step(double metric) {
  ++state_.last_epoch;
  if (is_better(metric, state_.best)) {
    state_.best = metric;
    state_.num_bad_epochs = 0;
  } else {
    ++state_.num_bad_epochs;
  }
  if (state_.cooldown_counter > 0) {  // bad epochs in cooldown do not count
    --state_.cooldown_counter;
    state_.num_bad_epochs = 0;
  }
  if (state_.num_bad_epochs > options_.patience) {
    for (std::size_t i = 0; i < min_lrs_.size(); ++i) {
      const double old_lr = optimizer_.param_groups()[i].lr;
      const double new_lr = std::max(old_lr * options_.factor, min_lrs_[i]);
      if (old_lr - new_lr > options_.eps) optimizer_.set_lr(i, new_lr);
    }
    state_.cooldown_counter = options_.cooldown;
    state_.num_bad_epochs = 0;
  }
}

std::vector<double> ReduceLROnPlateau::get_last_lr() const {
  std::vector<double> lrs;
  for (const auto& group : optimizer_.param_groups()) lrs.push_back(group.lr);
  return lrs;
}

std::string ReduceLROnPlateau::describe() const {
  const ReduceLROnPlateauOptions& o = options_;
  std::string min_lr;
  for (std::size_t i = 0; i < o.min_lr.size(); ++i) min_lr += (i ? ", " : "") + shortest_text(o.min_lr[i]);
  return "ReduceLROnPlateau(mode='" + o.mode + "', factor=" + shortest_text(o.factor) +
         ", patience=" + std::to_string(o.patience) + ", threshold=" + shortest_text(o.threshold) +
         ", threshold_mode='" + o.threshold_mode + "', cooldown=" + std::to_string(o.cooldown) + ", min_lr=[" +
         min_lr + "], eps=" + shortest_text(o.eps) + ")";
}

std::optional<StateProblem> ReduceLROnPlateau::find_state_problem(const PlateauState& s) const {
  if (std::isnan(s.best)) return StateProblem{{"best"}, "is NaN"};
  if (s.num_bad_epochs < 0) return StateProblem{{"num_bad_epochs"}, "must be >= 0, got " + std::to_string(s.num_bad_epochs)};
  if (s.cooldown_counter < 0 || s.cooldown_counter > options_.cooldown) {
    return StateProblem{{"cooldown_counter"}, "must be in [0, " + std::to_string(options_.cooldown) + "], got " +
                                                  std::to_string(s.cooldown_counter)};
  }
  if (s.last_epoch < 0) return StateProblem{{"last_epoch"}, "must be >= 0, got " + std::to_string(s.last_epoch)};
  return std::nullopt;
}

void ReduceLROnPlateau::load_state_dict(const PlateauState& s) {
  if (auto problem = find_state_problem(s)) {
    detail::fail(describe(), ": load_state_dict: field '", problem->path[0], "' ", problem->message);
  }
  state_ = s;
}

}  // namespace xgrad
