// The example trainers' figures of an epoch (EpochResult, for the log line and the report) and their
// divergence test. The training itself is the library's fit (classifier_run.cpp).
#pragma once
#include <cstddef>
#include <string>

#include "xgrad/core/error.hpp"
#include "xgrad/training/finite_check.hpp"

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

// Divergence without a NaN: an epoch's mean training loss above kDivergenceFactor times the run's first step's
// loss (`start_loss`; NaN before there is one), or a test accuracy no better than chance (10 classes) after an
// epoch. Returns what happened, for the log and the report, or "".
inline constexpr double kDivergenceFactor = 10;
std::string divergence(double train_loss, double test_accuracy, double start_loss);

}  // namespace xgrad::examples
