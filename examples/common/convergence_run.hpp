// One run of a convergence study (bn_vs_no_bn): trains a Sequential for a fixed number of steps, evaluating
// test accuracy every K steps (and, optionally, percentiles of one unit's input, as in Ioffe & Szegedy's
// Figure 1). A non-finite loss ends the run as diverged instead of throwing. The training is fit's
// (xgrad/training/fit.hpp); what is here is the study's bookkeeping: a callback recording the curve.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "xgrad/data/data_loader.hpp"
#include "xgrad/models/reference_networks.hpp"
#include "xgrad/models/sequential.hpp"
#include "xgrad/optim/optimizer.hpp"

namespace xgrad::examples {

// One configuration of a study: what trains, and how.
struct RunSpec {
  Normalization norm = Normalization::None;
  std::string optimizer;  // "sgd" | "adam"
  double lr = 0;          // the rate used
  double base_lr = 0;     // the rate given (the small-batch preset scales it by B/64)
  std::size_t batch_size = 0;
  std::size_t lr_index = 0;  // index of (optimizer, base lr) in the study's grid
  bool sync = false;         // norm Batch as SyncBatchNorm over the ranks (data-parallel study)
};

// The normalization's name in the CSVs and the flags: "none", "batch", "layer", "group", or "sync".
std::string norm_key(const RunSpec& spec);

// "batch sgd lr=0.1 B=64": the name of a configuration in the CSVs, the table and the progress line.
std::string run_name(const RunSpec& spec);
// A number as printf's %g prints it: 0.1, 1e-05, 1e+06.
std::string format_g(double v);

// One row of a curve. Values not measured at that row are NaN: the train loss at step 0, the accuracy
// and percentiles at the step whose loss was non-finite.
struct CurvePoint {
  std::size_t step = 0;
  std::size_t images = 0;  // training images seen so far
  double train_loss = 0;   // mean loss of the training batches since the previous row
  double test_accuracy = 0;  // on the evaluation loader, model in eval mode
  double p15 = 0, p50 = 0, p85 = 0;  // of the probed unit's input over the evaluation images
};

// Which activation to watch: column `unit` of the output of module `module` (its output must be (N, units)).
struct Probe {
  std::size_t module = 0;
  std::size_t unit = 0;
};

struct TrackOptions {
  std::size_t steps = 0;       // training steps, cycling through the loader's epochs
  std::size_t eval_every = 0;  // steps between rows; the last step always gets a row
  std::optional<Probe> probe;
  // Data-parallel runs: between backward and the update (the gradients averaged over the ranks, given
  // this rank's batch size), and the step's loss made the mean over the ranks (collective: every rank stops
  // together when one rank's loss is not finite). Empty: one process.
  std::function<void(std::size_t batch_size)> after_backward;
  std::function<double(double loss)> mean_over_ranks;
  std::size_t ranks = 1;  // the curve's image counts are of every rank's share of the global batch
};

struct TrackResult {
  std::vector<CurvePoint> curve;  // a row at step 0, every eval_every steps, and the last step
  bool non_finite = false;        // the loss became NaN or infinite (the curve ends there)
  std::size_t steps_done = 0;
  double seconds = 0;  // training and the evaluations between steps
};

// A finished run as the study reports it.
struct RunRecord {
  RunSpec spec;
  TrackResult track;
  std::size_t steps = 0;      // the budget
  double final_accuracy = 0;  // whole test set; NaN after a non-finite loss
  std::string diverged;       // empty, "loss nan at step 12", or "at chance"
  std::string steps_to_target = "never";
  std::uint64_t init_weights = 0, batch_order = 0;  // fingerprints: see below
};

// Trains `model` with `optimizer` on `train` (cross-entropy) through the library's fit, for o.steps steps
// over as many epochs as they take, recording a row per evaluation on `eval`. `label` heads the live progress
// line, which shows the mean loss since the last row and the last test accuracy.
TrackResult track_training(Sequential& model, Optimizer& optimizer, DataLoader& train, DataLoader& eval,
                           const TrackOptions& options, const std::string& label);

struct Evaluation {
  double accuracy = 0;
  double p15 = 0, p50 = 0, p85 = 0;  // NaN without a probe
};

// Accuracy of `model` on `loader` (eval mode, no graph; the mode is restored), and the percentiles of the
// probed unit when one is given.
Evaluation evaluate_with_probe(Sequential& model, DataLoader& loader, const std::optional<Probe>& probe);

// The p-th percentile (0..100) of `values`, interpolating linearly between order statistics like NumPy's
// default: position p/100 * (n - 1) in the sorted values. NaN when `values` is empty.
double percentile(std::vector<float> values, double p);

// The input to the last Sigmoid of `model`, unit `unit`: the probe Ioffe & Szegedy plot (for a network
// with BN, the BN output; without, the Dense output). Throws xgrad::Error if `model` has no Sigmoid
// after its first module.
Probe last_sigmoid_input(const Sequential& model, std::size_t unit);

// A 64-bit fingerprint (FNV-1a) of the weights of every Conv2d and Dense in `model`, in order, biases
// left out: equal for the variants of a reference network that share their initial weights.
std::uint64_t weights_fingerprint(const Sequential& model);

// A fingerprint of a sequence of indices (e.g. a loader's epoch order).
std::uint64_t indices_fingerprint(const std::vector<std::size_t>& indices);

}  // namespace xgrad::examples
