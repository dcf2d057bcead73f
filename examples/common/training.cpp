// The shared training loop: see training.hpp.
#include "examples/common/training.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/loss.hpp"
#include "examples/common/progress.hpp"
#include "examples/common/stop_signal.hpp"
#include "xgrad/models/fuse.hpp"

namespace xgrad::examples {

std::size_t count_correct(const Tensor& logits, const Labels& labels) {
  const std::size_t N = logits.size(0), C = logits.size(1);
  const float* z = logits.data();
  std::size_t correct = 0;
  for (std::size_t n = 0; n < N; ++n) {
    std::size_t best = 0;
    for (std::size_t c = 1; c < C; ++c) {
      if (z[n * C + c] > z[n * C + best]) best = c;
    }
    correct += static_cast<std::int32_t>(best) == labels[n];
  }
  return correct;
}

namespace {

// A float is NaN or infinite exactly when its 8 exponent bits are all ones. Testing the bits, without an
// early exit, lets GCC vectorize the loop (it does not vectorize std::isfinite): one quick pass per step.
bool all_finite(const float* p, std::size_t n) {
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, p + i, sizeof bits);
    bad |= (bits & 0x7f800000u) == 0x7f800000u;
  }
  return bad == 0;
}

// "NaN in <what> '<name>'" for the first of `named` holding a NaN or an infinity, or "" if none does.
std::string first_non_finite(const std::vector<NamedTensor>& named, const char* what) {
  for (const auto& [name, t] : named) {
    if (!t.defined() || all_finite(t.data(), t.numel())) continue;
    const float* p = t.data();
    const float* bad = std::find_if(p, p + t.numel(), [](float v) { return !std::isfinite(v); });
    return std::string(std::isnan(*bad) ? "NaN" : "an infinity") + " in " + what + " '" + name + "'";
  }
  return "";
}

// "NaN", "infinity", "-infinity" or the number, for messages (printf's "-nan" says nothing useful).
std::string value_text(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "infinity" : "-infinity";
  std::ostringstream out;
  out << v;
  return out.str();
}

std::vector<NamedTensor> gradients(const std::vector<NamedTensor>& parameters) {
  std::vector<NamedTensor> out;
  for (const auto& [name, p] : parameters) out.emplace_back(name, p.grad());
  return out;
}

}  // namespace

EpochResult train_epoch(Module& model, DataLoader& loader, Optimizer& optimizer, LRScheduler* scheduler,
                        int epoch, const std::string& label, const StepCallback& on_step,
                        const GradientHook& after_backward, std::size_t skip_steps) {
  model.train();
  const std::vector<NamedTensor> parameters = model.named_parameters();
  ProgressLine progress(label, loader.size());
  double loss_sum = 0;
  std::size_t seen = 0, correct = 0, step = 0;
  int stop_signal = 0;
  for (const Batch& batch : loader) {
    if (step < skip_steps) {
      ++step;
      continue;
    }
    optimizer.zero_grad();
    Tensor logits = model(batch.inputs);
    Tensor loss = cross_entropy(logits, batch.labels);
    const double loss_value = loss.item();
    if (!std::isfinite(loss_value)) {
      throw NonFiniteError("training stopped: the loss is " + value_text(loss_value) + " at epoch " +
                           std::to_string(epoch) + ", step " + std::to_string(step + 1) +
                           " (lower the learning rate?)");
    }
    loss.backward();
    if (after_backward) after_backward(batch.labels.size());
    // A finite loss can still give an infinite gradient (an overflow in backward); one step with it would
    // write NaN into every weight it reaches.
    if (const std::string bad = first_non_finite(gradients(parameters), "the gradient of"); !bad.empty()) {
      throw NonFiniteError("training stopped: " + bad + " at epoch " + std::to_string(epoch) + ", step " +
                           std::to_string(step + 1) + " (the loss was " + value_text(loss_value) +
                           "; lower the learning rate?)");
    }
    optimizer.step();
    if (scheduler) scheduler->step();
    ++step;
    const std::size_t n = batch.labels.size();
    loss_sum += loss_value * double(n);
    correct += count_correct(logits, batch.labels);
    seen += n;
    progress.update(step, loss_sum / double(seen), double(correct) / double(seen), seen);
    if (on_step && !on_step(step, loss_value)) break;
    if ((stop_signal = stop_agreed()) != 0) break;  // the step boundary: a consistent state to save
  }
  // Finite gradients can still overflow a weight (a huge learning rate), and BN's running statistics are
  // updated outside the optimizer: check both before anyone evaluates or saves them.
  for (bool buffers : {false, true}) {
    const std::string bad = buffers ? first_non_finite(model.named_buffers(), "the buffer")
                                    : first_non_finite(parameters, "the parameter");
    if (!bad.empty()) {
      throw NonFiniteError("training stopped: " + bad + " after epoch " + std::to_string(epoch) + ", step " +
                           std::to_string(step) + " (lower the learning rate?)");
    }
  }
  EpochResult result;
  result.epoch = epoch;
  result.steps = step;
  result.stop_signal = stop_signal;
  result.seconds = progress.finish();
  result.samples = seen;
  result.train_loss = seen ? loss_sum / double(seen) : 0.0;
  result.train_accuracy = seen ? double(correct) / double(seen) : 0.0;
  result.images_per_second = result.seconds > 0 ? double(seen) / result.seconds : 0.0;
  return result;
}

std::string divergence(double train_loss, double test_accuracy, double start_loss) {
  constexpr double kChance = 0.1;
  if (std::isfinite(start_loss) && train_loss > kDivergenceFactor * start_loss) {
    return "the training loss " + value_text(train_loss) + " is more than " + value_text(kDivergenceFactor) +
           " times the first step's " + value_text(start_loss);
  }
  if (test_accuracy <= kChance) {
    return "the test accuracy " + value_text(test_accuracy) + " is no better than chance (" + value_text(kChance) +
           ")";
  }
  return "";
}

double evaluate(Module& model, DataLoader& loader) {
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  // In eval mode a BatchNorm after a conv or dense is a per-channel affine map: fold it into the layer,
  // saving a pass over every activation (the fused model shares all other modules with `model`).
  std::shared_ptr<Sequential> fused;
  if (const auto* sequential = dynamic_cast<const Sequential*>(&model)) fused = fuse_conv_bn(*sequential);
  Module& inference = fused ? static_cast<Module&>(*fused) : model;
  std::size_t seen = 0, correct = 0;
  for (const Batch& batch : loader) {
    correct += count_correct(inference(batch.inputs), batch.labels);
    seen += batch.labels.size();
  }
  model.train(was_training);
  return seen ? double(correct) / double(seen) : 0.0;
}

}  // namespace xgrad::examples
