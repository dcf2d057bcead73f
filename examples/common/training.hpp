// The example trainers' glue around the library's epoch loop (xgrad/training/train_epoch.hpp) and evaluate:
// their EpochResult, the stop signal between steps, accuracy as one number, and the divergence test.
#pragma once
#include <cstddef>
#include <functional>
#include <string>

#include "xgrad/core/error.hpp"
#include "xgrad/training/finite_check.hpp"
#include "xgrad/data/data_loader.hpp"
#include "xgrad/layers/module.hpp"
#include "xgrad/optim/lr_scheduler.hpp"
#include "xgrad/optim/optimizer.hpp"

namespace xgrad::examples {

struct EpochResult {
  int epoch = 0;
  double train_loss = 0;      // mean over the epoch's batches, weighted by batch size
  double train_accuracy = 0;  // fraction of training images classified right while training
  double test_accuracy = 0;
  double images_per_second = 0;  // training only
  double seconds = 0;            // training only
  std::size_t samples = 0;       // training images seen (this rank's, when data-parallel)
  std::size_t steps = 0;         // steps done in this epoch, the skipped ones included
  int stop_signal = 0;           // SIGINT / SIGTERM when a signal stopped the epoch early, else 0
};

using xgrad::NonFiniteError;  // the library's NaN guard (xgrad/training/finite_check.hpp)

// Called after every step with (step within epoch, loss of the step); return false to stop the epoch.
using StepCallback = std::function<bool(std::size_t step, double loss)>;

// Called between backward and the update with the batch's sample count (data-parallel training averages
// the gradients over the ranks there).
using GradientHook = std::function<void(std::size_t batch_size)>;

// Trains `model` for one epoch over `loader`. `scheduler`, if given, steps after every batch.
// Throws NonFiniteError naming the epoch and step if the loss or a gradient is NaN or infinite (the step is
// not taken), or if a parameter or buffer is at the end of the epoch. The first `skip_steps` batches are
// drawn (so shuffling and augmentation go on exactly as before) but not trained on: a resume from a
// checkpoint saved mid-epoch. A SIGINT or SIGTERM (stop_signal.hpp) ends the epoch after the step in
// progress, with result.stop_signal set.
EpochResult train_epoch(Module& model, DataLoader& loader, Optimizer& optimizer, LRScheduler* scheduler,
                        int epoch, const std::string& label, const StepCallback& on_step = nullptr,
                        const GradientHook& after_backward = nullptr, std::size_t skip_steps = 0);

// Fraction of `loader`'s samples whose argmax logit equals the label; model in eval mode, no graph, and a
// Sequential's BatchNorms folded into the conv or dense before them (fuse_conv_bn). Restores the model's
// train/eval mode afterwards.
double evaluate(Module& model, DataLoader& loader);

// Divergence without a NaN: an epoch's mean training loss above kDivergenceFactor times the run's first step's
// loss (`start_loss`; NaN before there is one), or a test accuracy no better than chance (10 classes) after an
// epoch. Returns what happened, for the log and the report, or "".
inline constexpr double kDivergenceFactor = 10;
std::string divergence(double train_loss, double test_accuracy, double start_loss);

}  // namespace xgrad::examples
