// ReduceLROnPlateauCallback: fit's way to drive a ReduceLROnPlateau (optim/reduce_lr_on_plateau.hpp), as
// Keras' ReduceLROnPlateau callback does: after every epoch it steps the scheduler with the monitored
// figure ("val_loss" by default). The scheduler keeps the rules and the state; this only feeds it.
//
//   ReduceLROnPlateau plateau(opt, {.patience = 2});
//   fit(model, train, opt, {.validation = &test,
//                           .callbacks = {std::make_shared<ReduceLROnPlateauCallback>(plateau)}});
#pragma once
#include <string>

#include "xgrad/optim/reduce_lr_on_plateau.hpp"
#include "xgrad/training/callbacks.hpp"

namespace xgrad {

class ReduceLROnPlateauCallback : public Callback {
 public:
  explicit ReduceLROnPlateauCallback(ReduceLROnPlateau& scheduler, std::string monitor = "val_loss")
      : scheduler_(scheduler), monitor_(std::move(monitor)) {}
  bool on_epoch_end(FitContext&, const EpochLogs& logs) override {
    scheduler_.step(monitored(logs, monitor_, "ReduceLROnPlateauCallback"));
    return true;
  }

 private:
  ReduceLROnPlateau& scheduler_;
  std::string monitor_;
};

}  // namespace xgrad
