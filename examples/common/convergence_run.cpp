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

TrackResult track_training(Sequential& model, Optimizer& optimizer, DataLoader& train, DataLoader& eval,
                           const TrackOptions& o, const std::string& label) {
  XGRAD_CHECK(o.steps > 0 && o.eval_every > 0, "track_training: steps (", o.steps, ") and eval_every (",
              o.eval_every, ") must be positive");
  TrackResult result;
  ProgressLine progress(label, o.steps);
  auto add_row = [&](std::size_t step, std::size_t images, double loss) {
    const Evaluation e = evaluate_with_probe(model, eval, o.probe);
    result.curve.push_back({step, images, loss, e.accuracy, e.p15, e.p50, e.p85});
  };
  model.train();
  add_row(0, 0, kNaN);

  std::size_t step = 0, images = 0, interval_steps = 0;
  double interval_loss = 0;
  while (step < o.steps && !result.non_finite) {
    for (const Batch& batch : train) {
      optimizer.zero_grad();
      Tensor loss = cross_entropy(model(batch.inputs), batch.labels);
      const double value = o.mean_over_ranks ? o.mean_over_ranks(loss.item()) : loss.item();
      ++step;
      images += batch.labels.size() * o.ranks;
      if (!std::isfinite(value)) {
        // Diverged: record the loss that ended it and stop; the caller records the run and goes on.
        result.curve.push_back({step, images, value, kNaN, kNaN, kNaN, kNaN});
        result.non_finite = true;
        break;
      }
      loss.backward();
      if (o.after_backward) o.after_backward(batch.labels.size());
      optimizer.step();
      interval_loss += value;
      ++interval_steps;
      if (step % o.eval_every == 0 || step == o.steps) {
        add_row(step, images, interval_loss / double(interval_steps));
        interval_loss = 0;
        interval_steps = 0;
      }
      progress.update(step, interval_steps ? interval_loss / double(interval_steps) : result.curve.back().train_loss,
                      result.curve.back().test_accuracy, images);
      if (step == o.steps) break;
    }
  }
  result.steps_done = step;
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
