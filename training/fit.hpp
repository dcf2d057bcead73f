// fit: training in the library (Keras' model.fit, a PyTorch Lightning Trainer without the plumbing):
// epochs of train_epoch, the schedule stepped per batch or per epoch, validation after every epoch, the
// epoch's figures as logs and history, callbacks (callbacks.hpp), and the NaN guard: stop, or roll back to
// the start of the epoch at a lower learning rate and train it again.
//
//   SGD opt(model.parameters(), {.lr = 0.05, .momentum = 0.9});
//   auto history = fit(model, train, opt, {.epochs = 5, .validation = &test,
//                                          .callbacks = {std::make_shared<CsvLogger>("history.csv")}});
//
// The optimizer is an argument, not an option: there is no training without one.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "xgrad/data/data_loader.hpp"
#include "xgrad/layers/module.hpp"
#include "xgrad/optim/lr_scheduler.hpp"
#include "xgrad/optim/optimizer.hpp"
#include "xgrad/training/callbacks.hpp"
#include "xgrad/training/loss_function.hpp"
#include "xgrad/training/metrics.hpp"

namespace xgrad {

enum class SchedulerStep { Batch, Epoch };  // when fit steps the scheduler
enum class OnNan { Stop, Rollback };         // what fit does when train_epoch throws NonFiniteError

struct FitOptions {
  int epochs = 1;
  int initial_epoch = 0;  // epochs already done (a resumed run): fit runs initial_epoch + 1 ... epochs
  LossFunction loss;      // default: default_loss (cross_entropy on labels, mse_loss on float targets)
  LRScheduler* scheduler = nullptr;
  SchedulerStep scheduler_step = SchedulerStep::Batch;
  DataLoader* validation = nullptr;  // evaluated after every epoch: "val_loss" and "val_<metric>"
  // On the validation set; empty: accuracy when the training batches have labels.
  std::vector<std::shared_ptr<Metric>> metrics;
  std::vector<std::shared_ptr<Callback>> callbacks;
  bool progress = true;  // the live progress line and a line per epoch, on stderr
  OnNan on_nan = OnNan::Stop;
  int max_rollbacks = 3;            // OnNan::Rollback: then the NonFiniteError is thrown
  double rollback_lr_factor = 0.1;  // each rollback multiplies every learning rate by this
  // Batches of epoch initial_epoch + 1 already trained (a checkpoint saved inside an epoch): drawn, so that
  // shuffling and augmentation go on exactly as before, but not trained on.
  std::size_t initial_step = 0;
  // Called between backward and the optimizer's step with the batch's sample count (data-parallel training
  // averages the gradients over the ranks there).
  std::function<void(std::size_t batch_size)> after_backward;
  // Applied to each step's loss value before the NaN guard, the statistics and the callbacks: data-parallel
  // training passes the mean over the ranks (a collective), so that every rank stops at the same step.
  std::function<double(double loss)> reduce_loss;
  FiniteChecks finite_checks = FiniteChecks::All;  // what the NaN guard checks: see train_epoch.hpp
  bool epoch_summary = true;  // with `progress`: the line per epoch after validation
};

// Trains `model` and returns the history, one EpochLogs per epoch: "epoch", "loss", "accuracy" (with
// labels), "lr" (the first group's, at the epoch's end), "seconds", "rollbacks", and with a validation
// loader "val_loss" and "val_<metric>" per metric. Throws what train_epoch and the callbacks throw.
std::vector<EpochLogs> fit(Module& model, DataLoader& train, Optimizer& optimizer, const FitOptions& options = {});

}  // namespace xgrad
