// fit: see fit.hpp.
#include "xgrad/training/fit.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "xgrad/core/error.hpp"
#include "xgrad/training/evaluate.hpp"
#include "xgrad/training/train_epoch.hpp"

namespace xgrad {
namespace {

// Everything an epoch changes, as it was at the epoch's start: what a rollback restores.
struct Snapshot {
  std::vector<Tensor> parameters, buffers;
  OptimizerState optimizer;
  std::optional<SchedulerState> scheduler;
  std::array<std::uint64_t, 4> shuffle, transform;
};

std::vector<Tensor> clones(const std::vector<NamedTensor>& named) {
  std::vector<Tensor> out;
  for (const auto& [name, t] : named) out.push_back(t.clone());
  return out;
}

void copy_into(const std::vector<NamedTensor>& named, const std::vector<Tensor>& saved) {
  for (std::size_t i = 0; i < named.size(); ++i) {
    Tensor t = named[i].second;
    std::memcpy(t.data(), saved[i].data(), t.numel() * sizeof(float));
  }
}

Snapshot take(Module& model, Optimizer& optimizer, LRScheduler* scheduler, DataLoader& train) {
  Snapshot s{clones(model.named_parameters()), clones(model.named_buffers()), optimizer.state_dict(), std::nullopt,
             train.shuffle_generator().state(), train.transform_generator().state()};
  if (scheduler) s.scheduler = scheduler->state_dict();
  return s;
}

// Back to `s`, every learning rate (the groups' and the schedule's base) times `factor`.
void restore(const Snapshot& s, double factor, Module& model, Optimizer& optimizer, LRScheduler* scheduler,
             DataLoader& train) {
  copy_into(model.named_parameters(), s.parameters);
  copy_into(model.named_buffers(), s.buffers);
  OptimizerState o = s.optimizer;
  for (auto& g : o.param_groups) g.lr *= factor;
  optimizer.load_state_dict(o);
  if (scheduler) {
    SchedulerState sc = *s.scheduler;
    for (double& lr : sc.base_lrs) lr *= factor;
    scheduler->load_state_dict(sc);
  }
  train.shuffle_generator().set_state(s.shuffle);
  train.transform_generator().set_state(s.transform);
}

void print_epoch(const EpochLogs& logs, int epochs) {
  std::string line = "epoch " + std::to_string(int(logs.at("epoch"))) + "/" + std::to_string(epochs) + ":";
  for (const auto& [name, value] : logs) {
    if (name == "epoch" || name == "rollbacks") continue;
    char text[64];
    std::snprintf(text, sizeof text, " %s %.4g", name.c_str(), value);
    line += text;
  }
  std::fprintf(stderr, "%s\n", line.c_str());
}

void check_options(const FitOptions& o) {
  XGRAD_CHECK(o.epochs >= 1, "fit: epochs must be >= 1, got ", o.epochs);
  XGRAD_CHECK(o.initial_epoch >= 0 && o.initial_epoch < o.epochs, "fit: initial_epoch ", o.initial_epoch,
              " is not in [0, epochs = ", o.epochs, ")");
  XGRAD_CHECK(o.max_rollbacks >= 0, "fit: max_rollbacks must be >= 0, got ", o.max_rollbacks);
  XGRAD_CHECK(o.rollback_lr_factor > 0 && o.rollback_lr_factor <= 1, "fit: rollback_lr_factor must be in (0, 1], got ",
              o.rollback_lr_factor);
  for (const auto& c : o.callbacks) XGRAD_CHECK(c != nullptr, "fit: a callback is null");
  for (const auto& m : o.metrics) XGRAD_CHECK(m != nullptr, "fit: a metric is null");
}

}  // namespace

std::vector<EpochLogs> fit(Module& model, DataLoader& train, Optimizer& optimizer, const FitOptions& o) {
  check_options(o);
  FitContext context{model, optimizer, o.scheduler, train, o.initial_epoch, o.epochs, {}};
  for (const auto& c : o.callbacks) c->on_train_begin(context);
  std::vector<EpochLogs> history;
  int rollbacks = 0;
  bool stop = false;
  for (int epoch = o.initial_epoch + 1; epoch <= o.epochs && !stop; ++epoch) {
    context.epoch = epoch;
    for (const auto& c : o.callbacks) c->on_epoch_begin(context);
    std::optional<Snapshot> snapshot;
    if (o.on_nan == OnNan::Rollback) snapshot = take(model, optimizer, o.scheduler, train);
    EpochOptions eo;
    eo.epoch = epoch;
    eo.loss = o.loss;
    eo.after_backward = o.after_backward;
    eo.reduce_loss = o.reduce_loss;
    eo.finite_checks = o.finite_checks;
    eo.skip_steps = epoch == o.initial_epoch + 1 ? o.initial_step : 0;
    if (o.scheduler_step == SchedulerStep::Batch) eo.scheduler = o.scheduler;
    if (o.progress) eo.progress = "epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs);
    eo.on_step = [&](std::size_t step, double loss) {
      for (const auto& c : o.callbacks) stop = !c->on_step_end(context, step, loss) || stop;
      return !stop;
    };
    EpochStats stats;
    try {
      stats = train_epoch(model, train, optimizer, eo);
    } catch (const NonFiniteError& e) {
      if (o.on_nan == OnNan::Stop || rollbacks >= o.max_rollbacks) throw;
      ++rollbacks;
      restore(*snapshot, o.rollback_lr_factor, model, optimizer, o.scheduler, train);
      stop = false;
      std::fprintf(stderr, "fit: %s; rolled back to the start of epoch %d with every learning rate x %g (rollback %d of %d)\n",
                   e.what(), epoch, o.rollback_lr_factor, rollbacks, o.max_rollbacks);
      --epoch;  // train it again
      continue;
    }
    context.stats = stats;
    if (o.scheduler && o.scheduler_step == SchedulerStep::Epoch) o.scheduler->step();
    EpochLogs logs{{"epoch", double(epoch)}, {"loss", stats.loss}, {"seconds", stats.seconds},
                   {"lr", optimizer.param_groups().empty() ? 0.0 : optimizer.param_groups()[0].lr},
                   {"rollbacks", double(rollbacks)}};
    if (!std::isnan(stats.accuracy)) logs["accuracy"] = stats.accuracy;
    if (o.validation) {
      std::vector<std::shared_ptr<Metric>> metrics = o.metrics;
      if (metrics.empty() && !std::isnan(stats.accuracy)) metrics.push_back(std::make_shared<Accuracy>());
      const LossFunction loss = o.loss ? o.loss : LossFunction(default_loss);
      for (const auto& [name, value] : evaluate(model, *o.validation, metrics, loss)) logs["val_" + name] = value;
    }
    if (o.progress && o.epoch_summary) print_epoch(logs, o.epochs);
    history.push_back(logs);
    for (const auto& c : o.callbacks) stop = !c->on_epoch_end(context, logs) || stop;
  }
  for (const auto& c : o.callbacks) c->on_train_end(context, history);
  return history;
}

}  // namespace xgrad
