// train_epoch: one epoch of training steps over a loader (zero_grad, forward, loss, backward, the NaN guard,
// step), with running figures and an optional live progress line. fit() calls it once per epoch; a trainer
// that wants its own epoch loop (the examples' trainers, data-parallel) calls it directly.
#pragma once
#include <cstddef>
#include <functional>
#include <string>

#include "xgrad/data/data_loader.hpp"
#include "xgrad/layers/module.hpp"
#include "xgrad/optim/lr_scheduler.hpp"
#include "xgrad/optim/optimizer.hpp"
#include "xgrad/training/finite_check.hpp"
#include "xgrad/training/loss_function.hpp"

namespace xgrad {

// What the NaN guard checks. All: the loss before backward, every gradient before the update, and every
// parameter and buffer at the epoch's end. LossOnly: the loss alone; a non-finite gradient is stepped with,
// as in a plain PyTorch loop, and shows in a later step's loss (what a study of divergence records).
enum class FiniteChecks { All, LossOnly };

struct EpochOptions {
  int epoch = 1;                       // for messages and the progress line
  LossFunction loss;                   // default: default_loss (cross_entropy on labels, mse_loss on targets)
  LRScheduler* scheduler = nullptr;    // stepped after every batch, if given
  std::string progress;                // the progress line's label ("epoch 1/10"); "" for none
  // Called between backward and the update with the batch's sample count (data-parallel training averages
  // the gradients over the ranks there).
  std::function<void(std::size_t batch_size)> after_backward;
  // Applied to each step's loss value before the finite check, the statistics and on_step. Data-parallel
  // training passes the mean over the ranks (a collective every rank calls at every step), so that the ranks
  // report the same loss and all stop at the same step when one rank's loss is not finite; alone, one rank
  // would throw and the others would wait forever in the gradients' allreduce.
  std::function<double(double loss)> reduce_loss;
  FiniteChecks finite_checks = FiniteChecks::All;
  // Called after every step with (steps done in this epoch, the step's loss); return false to stop the epoch.
  std::function<bool(std::size_t step, double loss)> on_step;
  // The first skip_steps batches are drawn (so shuffling and augmentation go on exactly as before) but not
  // trained on: a resume from a checkpoint saved mid-epoch.
  std::size_t skip_steps = 0;
};

struct EpochStats {
  double loss = 0;             // mean over the epoch's samples (each step's loss weighted by its batch size)
  double accuracy = 0;         // fraction of samples classified right while training; NaN for float targets
  std::size_t samples = 0;     // samples trained on
  std::size_t steps = 0;       // steps done, the skipped ones included
  double seconds = 0;
  double samples_per_second = 0;
  bool stopped = false;        // on_step returned false
};

// Trains `model` (put in train mode) for one epoch. Throws NonFiniteError naming the epoch and step if the
// loss or (FiniteChecks::All) a gradient is NaN or infinite (the step is not taken), or (All) if a parameter or
// buffer is at the end of the epoch (finite gradients can still overflow a weight; BN's running statistics
// are updated outside the optimizer): before a NaN can reach a checkpoint.
EpochStats train_epoch(Module& model, DataLoader& loader, Optimizer& optimizer, const EpochOptions& options = {});

}  // namespace xgrad
