// ReduceLROnPlateau: divides the learning rates when a metric stops improving, as PyTorch's
// torch.optim.lr_scheduler.ReduceLROnPlateau (same options, defaults and rules). Unlike the schedules of
// schedule.hpp it is not a function of the step: it keeps the best metric seen and counts bad epochs, and
// that state comes out and goes back in through state_dict()/load_state_dict().
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xgrad/optim/optimizer.hpp"

namespace xgrad {

struct ReduceLROnPlateauOptions {
  std::string mode = "min";            // "min": lower is better (a loss); "max": higher is (an accuracy)
  double factor = 0.1;                 // new lr = lr * factor, < 1
  std::int64_t patience = 10;          // bad epochs tolerated before reducing
  double threshold = 1e-4;             // how much better counts as better
  std::string threshold_mode = "rel";  // "rel": best * (1 -/+ threshold); "abs": best -/+ threshold
  std::int64_t cooldown = 0;           // epochs after a reduction during which bad epochs are not counted
  std::vector<double> min_lr = {0};    // one for every group, or one per group
  double eps = 1e-8;                   // a reduction smaller than this is skipped
};

// What changes while it runs.
struct PlateauState {
  double best = 0;  // +inf (min) or -inf (max) before the first step
  std::int64_t num_bad_epochs = 0;
  std::int64_t cooldown_counter = 0;
  std::int64_t last_epoch = 0;
};

class ReduceLROnPlateau {
 public:
  ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});
  ReduceLROnPlateau(const ReduceLROnPlateau&) = delete;
  ReduceLROnPlateau& operator=(const ReduceLROnPlateau&) = delete;

  // One epoch's metric (NaN counts as not better, as in PyTorch). Reduces every group's lr by `factor`,
  // not below its min_lr, once more than `patience` epochs in a row were not better than the best.
  void step(double metric);
  std::vector<double> get_last_lr() const;
  // "ReduceLROnPlateau(mode='min', factor=0.1, patience=10, ...)"
  std::string describe() const;

  PlateauState state_dict() const { return state_; }
  // The first field of `s` this scheduler cannot take (a negative count, a NaN best, a cooldown counter
  // beyond its cooldown), if any: what the checkpoint loader checks before it changes anything.
  std::optional<StateProblem> find_state_problem(const PlateauState& s) const;
  // Throws xgrad::Error naming the field if find_state_problem finds one, changing nothing. The groups'
  // lrs are not touched: the optimizer's own state holds them, as in PyTorch. save_checkpoint and
  // load_checkpoint (models/checkpoint.hpp) carry this state and resume it exactly.
  void load_state_dict(const PlateauState& s);

 private:
  bool is_better(double a, double best) const;

  Optimizer& optimizer_;
  ReduceLROnPlateauOptions options_;
  std::vector<double> min_lrs_;  // one per group
  PlateauState state_;
};

}  // namespace xgrad
