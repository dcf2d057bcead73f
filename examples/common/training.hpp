// The training loop the example trainers share: one epoch of steps with a live progress line, evaluation
// under no-grad in eval mode, and a guard that stops on a non-finite loss, gradient or weight instead of
// training on NaN (and so before a NaN could reach a checkpoint).
#pragma once
#include <cstddef>
#include <functional>
#include <string>

#include "xgrad/core/error.hpp"
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
};

// A NaN or an infinity in the loss, a gradient, a weight or a buffer; the message names the epoch, the step
// and the tensor. Its own type so that a trainer can roll back instead of stopping.
class NonFiniteError : public Error {
 public:
  using Error::Error;
};

// Called after every step with (step within epoch, loss of the step); return false to stop the epoch.
using StepCallback = std::function<bool(std::size_t step, double loss)>;

// Called between backward and the update with the batch's sample count (data-parallel training averages
// the gradients over the ranks there).
using GradientHook = std::function<void(std::size_t batch_size)>;

// Trains `model` for one epoch over `loader`. `scheduler`, if given, steps after every batch.
// Throws NonFiniteError naming the epoch and step if the loss or a gradient is NaN or infinite (the step is
// not taken), or if a parameter or buffer is at the end of the epoch.
EpochResult train_epoch(Module& model, DataLoader& loader, Optimizer& optimizer, LRScheduler* scheduler,
                        int epoch, const std::string& label, const StepCallback& on_step = nullptr,
                        const GradientHook& after_backward = nullptr);

// Fraction of `loader`'s samples whose argmax logit equals the label; model in eval mode, no graph, and a
// Sequential's BatchNorms folded into the conv or dense before them (fuse_conv_bn). Restores the model's
// train/eval mode afterwards.
double evaluate(Module& model, DataLoader& loader);

// Number of rows of logits (N, C) whose argmax equals the label.
std::size_t count_correct(const Tensor& logits, const Labels& labels);

}  // namespace xgrad::examples
