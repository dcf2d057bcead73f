// Callbacks for fit (Keras' keras.callbacks): hooks after every step and every epoch that log, save or stop
// training. fit calls them in the order given. EpochLogs are the epoch's figures by name ("loss",
// "accuracy", "val_loss", "val_accuracy", "lr", ...), which a callback monitors by that name.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "xgrad/data/data_loader.hpp"
#include "xgrad/layers/module.hpp"
#include "xgrad/optim/lr_scheduler.hpp"
#include "xgrad/optim/optimizer.hpp"
#include "xgrad/optim/reduce_lr_on_plateau.hpp"
#include "xgrad/training/train_epoch.hpp"

namespace xgrad {

using EpochLogs = std::map<std::string, double>;

// What a callback may look at or save: the objects fit trains, and where it is.
struct FitContext {
  Module& model;
  Optimizer& optimizer;
  LRScheduler* scheduler;
  DataLoader& train;
  int epoch = 0;   // the epoch in progress or just finished, from 1
  int epochs = 0;  // the last epoch fit will run
  EpochStats stats;  // the epoch just trained (at on_epoch_end): its steps, samples, whether a step stopped it
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(FitContext&) {}
  // Before each epoch's first step (again before an epoch retried after a rollback).
  virtual void on_epoch_begin(FitContext&) {}
  // After each step (`step` counts from 1 within the epoch); false ends training after this epoch's
  // validation and epoch-end callbacks.
  virtual bool on_step_end(FitContext&, std::size_t /*step*/, double /*loss*/) { return true; }
  // After each epoch's validation; false ends training.
  virtual bool on_epoch_end(FitContext&, const EpochLogs&) { return true; }
  virtual void on_train_end(FitContext&, const std::vector<EpochLogs>& /*history*/) {}
};

// A user's functions as a callback; either may be empty.
class LambdaCallback : public Callback {
 public:
  using StepFunction = std::function<bool(std::size_t step, double loss)>;
  using EpochFunction = std::function<bool(int epoch, const EpochLogs& logs)>;
  explicit LambdaCallback(StepFunction on_step, EpochFunction on_epoch = nullptr)
      : on_step_(std::move(on_step)), on_epoch_(std::move(on_epoch)) {}
  bool on_step_end(FitContext&, std::size_t step, double loss) override { return !on_step_ || on_step_(step, loss); }
  bool on_epoch_end(FitContext& c, const EpochLogs& logs) override { return !on_epoch_ || on_epoch_(c.epoch, logs); }

 private:
  StepFunction on_step_;
  EpochFunction on_epoch_;
};

// Writes the history as CSV, one row per epoch ("epoch,loss,accuracy,..."), the whole file replaced
// atomically after every epoch (a crash leaves the previous epoch's file). Values as %.9g.
class CsvLogger : public Callback {
 public:
  explicit CsvLogger(std::string path);
  bool on_epoch_end(FitContext& c, const EpochLogs& logs) override;

 private:
  std::string path_, text_;
  std::vector<std::string> columns_;
};

// Writes the history as JSON, a list with one object per epoch ("epoch" first, then the logs by name):
//   [
//     {"epoch": 1, "accuracy": 0.84, "loss": 0.41, ...},
//     {"epoch": 2, ...}
//   ]
// The whole file is replaced atomically after every epoch, so a crash leaves the previous epoch's valid
// file. Numbers are the shortest text that reads back as the same double (core/number_text.hpp); a NaN or
// an infinity, which JSON cannot hold, is written as null.
class JsonLogger : public Callback {
 public:
  explicit JsonLogger(std::string path);
  bool on_epoch_end(FitContext& c, const EpochLogs& logs) override;

 private:
  std::string path_;
  std::vector<std::string> epochs_;  // one object's text per epoch
};

// min: lower is better (losses, errors); max: higher (accuracies); auto: max when the name contains "acc".
enum class MonitorMode { Auto, Min, Max };

struct ModelCheckpointOptions {
  std::string path;       // a training checkpoint after every epoch (model, optimizer, schedule, loader's
                          // generators and the epoch); "" for none
  std::string best_path;  // the same, whenever `monitor` improves; "" for none
  std::string monitor = "val_loss";
  MonitorMode mode = MonitorMode::Auto;
  // A ReduceLROnPlateau that fit drives (ReduceLROnPlateauCallback): its state goes into the checkpoints
  // too, so load_checkpoint(..., &plateau) resumes it exactly. List its callback before this one, so that
  // the state saved is the one after the epoch's step.
  const ReduceLROnPlateau* plateau = nullptr;
};

// Saves with save_checkpoint (models/checkpoint.hpp): atomically, so a crash leaves the previous file.
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(ModelCheckpointOptions options);
  bool on_epoch_end(FitContext& c, const EpochLogs& logs) override;
  double best() const { return best_; }  // the best monitored value so far (NaN before the first epoch)

 private:
  ModelCheckpointOptions options_;
  double best_;
};

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  int patience = 0;        // epochs without improvement to allow before stopping
  double min_delta = 0;    // an improvement must exceed this
  MonitorMode mode = MonitorMode::Auto;
};

// Stops training when `monitor` has not improved for `patience` epochs (Keras' EarlyStopping).
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options);
  bool on_epoch_end(FitContext& c, const EpochLogs& logs) override;
  int stopped_epoch() const { return stopped_epoch_; }  // 0 while training goes on

 private:
  EarlyStoppingOptions options_;
  double best_;
  int wait_ = 0, stopped_epoch_ = 0;
};

// logs[name], or an xgrad::Error naming `who`, the missing name and the names there are.
double monitored(const EpochLogs& logs, const std::string& name, const char* who);
// Whether `value` improves on `best` by more than min_delta (any finite value improves on NaN).
bool improves(double value, double best, const std::string& name, MonitorMode mode, double min_delta = 0);

}  // namespace xgrad
