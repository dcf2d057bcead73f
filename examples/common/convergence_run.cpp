// One tracked training run of a convergence study: see convergence_run.hpp.
#include "examples/common/convergence_run.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/loss.hpp"
#include "xgrad/training/fit.hpp"
#include "xgrad/training/metrics.hpp"
#include "xgrad/training/progress.hpp"
#include "examples/common/training.hpp"
#include "xgrad/layers/activations.hpp"
#include "xgrad/layers/conv2d.hpp"
#include "xgrad/layers/dense.hpp"

namespace xgrad::examples {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// FNV-1a over raw bytes, continuing from `hash`.
std::uint64_t fnv1a(std::uint64_t hash, const void* bytes, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  for (std::size_t i = 0; i < n; ++i) {
    hash ^= p[i];
    hash *= 1099511628211ULL;
  }
  return hash;
}
constexpr std::uint64_t kFnvOffset = 14695981039346656037ULL;

}  // namespace

std::string format_g(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", v);
  return buffer;
}

std::string norm_key(const RunSpec& r) { return r.sync ? "sync" : to_string(r.norm); }

std::string run_name(const RunSpec& r) {
  return norm_key(r) + " " + r.optimizer + " lr=" + format_g(r.lr) + " B=" + std::to_string(r.batch_size);
}

double percentile(std::vector<float> values, double p) {
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const double position = p / 100.0 * double(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, values.size() - 1);
  const double fraction = position - double(below);
  return double(values[below]) + fraction * (double(values[above]) - double(values[below]));
}

Evaluation evaluate_with_probe(Sequential& model, DataLoader& loader, const std::optional<Probe>& probe) {
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  std::size_t seen = 0, correct = 0;
  std::vector<float> probed;
  for (const Batch& batch : loader) {
    // Module by module, so the probe can read an intermediate output: h (N, units) after module `probe`.
    Tensor h = batch.inputs;
    for (std::size_t i = 0; i < model.size(); ++i) {
      h = (*model[i])(h);
      if (probe && i == probe->module) {
        XGRAD_CHECK(h.dim() == 2 && probe->unit < h.size(1), "evaluate_with_probe: module ", i,
                    " output ", shape_str(h.shape()), " has no unit ", probe->unit);
        const std::size_t N = h.size(0), U = h.size(1);
        for (std::size_t n = 0; n < N; ++n) probed.push_back(h.data()[n * U + probe->unit]);
      }
    }
    correct += count_correct(h, batch.labels);
    seen += batch.labels.size();
  }
  model.train(was_training);
  Evaluation e;
  e.accuracy = seen ? double(correct) / double(seen) : 0.0;
  e.p15 = probe ? percentile(probed, 15) : kNaN;
  e.p50 = probe ? percentile(probed, 50) : kNaN;
  e.p85 = probe ? percentile(probed, 85) : kNaN;
  return e;
}

namespace {

// fit's callback for one tracked run: counts the steps across fit's epochs, records a curve row every
// eval_every steps and at the last, draws the run's progress line and stops fit at the step budget.
class ConvergenceCurveRecorder : public Callback {
 public:
  ConvergenceCurveRecorder(Sequential& model, DataLoader& eval, const TrackOptions& o, TrackResult& result,
                           ProgressLine& progress)
      : model_(model), eval_(eval), o_(o), result_(result), progress_(progress) {}

  void add_row(double loss) {
    const Evaluation e = evaluate_with_probe(model_, eval_, o_.probe);
    result_.curve.push_back({step, images, loss, e.accuracy, e.p15, e.p50, e.p85});
  }

  // The step's sample count, from fit's after_backward (called at every step, before on_step_end).
  void set_batch_size(std::size_t n) { batch_size_ = n; }

  bool on_step_end(FitContext&, std::size_t, double loss) override {
    ++step;
    images += batch_size_ * o_.ranks;
    interval_loss_ += loss;
    ++interval_steps_;
    if (step % o_.eval_every == 0 || step == o_.steps) {
      add_row(interval_loss_ / double(interval_steps_));
      interval_loss_ = 0;
      interval_steps_ = 0;
    }
    progress_.update(step, interval_steps_ ? interval_loss_ / double(interval_steps_) : result_.curve.back().train_loss,
                     result_.curve.back().test_accuracy, images);
    return step < o_.steps;
  }

  std::size_t step = 0, images = 0;  // over the whole run

 private:
  Sequential& model_;
  DataLoader& eval_;
  const TrackOptions& o_;
  TrackResult& result_;
  ProgressLine& progress_;
  std::size_t batch_size_ = 0, interval_steps_ = 0;
  double interval_loss_ = 0;
};

}  // namespace

TrackResult track_training(Sequential& model, Optimizer& optimizer, DataLoader& train, DataLoader& eval,
                           const TrackOptions& o, const std::string& label) {
  XGRAD_CHECK(o.steps > 0 && o.eval_every > 0, "track_training: steps (", o.steps, ") and eval_every (",
              o.eval_every, ") must be positive");
  XGRAD_CHECK(train.size() > 0, "track_training: the training loader has no batch");
  TrackResult result;
  ProgressLine progress(label, o.steps);
  auto recorder = std::make_shared<ConvergenceCurveRecorder>(model, eval, o, result, progress);
  model.train();
  recorder->add_row(kNaN);

  FitOptions fo;
  fo.epochs = int((o.steps + train.size() - 1) / train.size());  // the last one stopped at the budget
  fo.callbacks = {recorder};
  fo.progress = false;  // the recorder's line counts the run's steps, not an epoch's
  // Only the loss guards: a non-finite gradient is stepped with and ends the run at the next step's loss.
  fo.finite_checks = FiniteChecks::LossOnly;
  fo.reduce_loss = o.mean_over_ranks;
  fo.after_backward = [&](std::size_t batch_size) {
    recorder->set_batch_size(batch_size);
    if (o.after_backward) o.after_backward(batch_size);
  };
  try {
    fit(model, train, optimizer, fo);
  } catch (const NonFiniteError& e) {
    // Diverged: record the loss that ended it (the mean over the ranks: every rank stops at this step); the
    // caller records the run and goes on.
    const NonFiniteError::Where& where = e.where();
    recorder->step += 1;
    recorder->images += where.batch_size * o.ranks;
    result.curve.push_back({recorder->step, recorder->images, where.loss, kNaN, kNaN, kNaN, kNaN});
    result.non_finite = true;
  }
  result.steps_done = recorder->step;
  result.seconds = progress.finish();
  return result;
}

Probe last_sigmoid_input(const Sequential& model, std::size_t unit) {
  for (std::size_t i = model.size(); i-- > 1;) {
    if (std::dynamic_pointer_cast<Sigmoid>(model[i])) return {i - 1, unit};
  }
  detail::fail("last_sigmoid_input: the model (", model.size(), " modules) has no Sigmoid after its first module");
}

std::uint64_t weights_fingerprint(const Sequential& model) {
  std::uint64_t hash = kFnvOffset;
  for (std::size_t i = 0; i < model.size(); ++i) {
    Tensor w;
    if (auto conv = std::dynamic_pointer_cast<Conv2d>(model[i])) w = conv->weight();
    if (auto dense = std::dynamic_pointer_cast<Dense>(model[i])) w = dense->weight();
    if (w.defined()) hash = fnv1a(hash, w.data(), w.numel() * sizeof(float));
  }
  return hash;
}

std::uint64_t indices_fingerprint(const std::vector<std::size_t>& indices) {
  std::uint64_t hash = kFnvOffset;
  for (std::size_t i : indices) {
    const auto v = static_cast<std::uint64_t>(i);
    hash = fnv1a(hash, &v, sizeof v);
  }
  return hash;
}

}  // namespace xgrad::examples
