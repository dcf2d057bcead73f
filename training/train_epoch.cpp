// train_epoch: see train_epoch.hpp. Moved here from the example trainers' shared loop: the same operations in
// the same order, so their runs stay bit-identical.
#include "xgrad/training/train_epoch.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "xgrad/training/metrics.hpp"
#include "xgrad/training/progress.hpp"

namespace xgrad {
namespace {

// The parameters' current gradients into `out`, which already holds their names: the list and the names
// are made once per epoch, so that a training step allocates nothing (tests/test_allocation.cpp).
const std::vector<NamedTensor>& gradients(const std::vector<NamedTensor>& parameters, std::vector<NamedTensor>& out) {
  for (std::size_t i = 0; i < parameters.size(); ++i) out[i].second = parameters[i].second.grad();
  return out;
}

std::string where(int epoch, std::size_t step) {
  return " at epoch " + std::to_string(epoch) + ", step " + std::to_string(step);
}

}  // namespace

EpochStats train_epoch(Module& model, DataLoader& loader, Optimizer& optimizer, const EpochOptions& o) {
  model.train();
  const std::vector<NamedTensor> parameters = model.named_parameters();
  std::vector<NamedTensor> grads = parameters;  // the names; gradients() fills in the tensors
  const LossFunction& loss_fn = o.loss ? o.loss : LossFunction(default_loss);
  ProgressLine progress(o.progress, loader.size());
  double loss_sum = 0;
  std::size_t seen = 0, correct = 0, labelled = 0, step = 0;
  bool stopped = false;
  for (const Batch& batch : loader) {
    if (step < o.skip_steps) {
      ++step;
      continue;
    }
    optimizer.zero_grad();
    Tensor output = model(batch.inputs);
    Tensor loss = loss_fn(output, batch);
    const double loss_value = o.reduce_loss ? o.reduce_loss(loss.item()) : loss.item();
    const NonFiniteError::Where here{o.epoch, step + 1, loss_value, batch.size()};
    if (!std::isfinite(loss_value)) {
      throw NonFiniteError("training stopped: the loss is " + value_text(loss_value) + where(o.epoch, step + 1) +
                               " (lower the learning rate?)",
                           here);
    }
    loss.backward();
    if (o.after_backward) o.after_backward(batch.size());
    // A finite loss can still give an infinite gradient (an overflow in backward); one step with it would
    // write NaN into every weight it reaches.
    if (o.finite_checks == FiniteChecks::All) {
      const std::string bad = first_non_finite(gradients(parameters, grads), "the gradient of");
      for (NamedTensor& g : grads) g.second = Tensor();  // holds no gradient past the check
      if (!bad.empty()) {
        throw NonFiniteError("training stopped: " + bad + where(o.epoch, step + 1) + " (the loss was " +
                                 value_text(loss_value) + "; lower the learning rate?)",
                             here);
      }
    }
    optimizer.step();
    if (o.scheduler) o.scheduler->step();
    ++step;
    const std::size_t n = batch.size();
    loss_sum += loss_value * double(n);
    if (!batch.labels.empty() && output.dim() == 2) {
      correct += count_correct(output, batch.labels);
      labelled += n;
    }
    seen += n;
    const double accuracy = labelled ? double(correct) / double(labelled) : std::numeric_limits<double>::quiet_NaN();
    if (!o.progress.empty()) progress.update(step, loss_sum / double(seen), accuracy, seen);
    if (o.on_step && !o.on_step(step, loss_value)) {
      stopped = true;
      break;
    }
  }
  for (bool buffers : {false, true}) {
    if (o.finite_checks != FiniteChecks::All) break;
    const std::string bad = buffers ? first_non_finite(model.named_buffers(), "the buffer")
                                    : first_non_finite(parameters, "the parameter");
    if (!bad.empty()) {
      throw NonFiniteError("training stopped: " + bad + " after epoch " + std::to_string(o.epoch) + ", step " +
                               std::to_string(step) + " (lower the learning rate?)",
                           {.epoch = o.epoch, .step = step, .loss = std::numeric_limits<double>::quiet_NaN()});
    }
  }
  EpochStats s;
  s.steps = step;
  s.stopped = stopped;
  s.seconds = o.progress.empty() ? progress.elapsed_seconds() : progress.finish();
  s.samples = seen;
  s.loss = seen ? loss_sum / double(seen) : 0.0;
  s.accuracy = labelled ? double(correct) / double(labelled) : std::numeric_limits<double>::quiet_NaN();
  s.samples_per_second = s.seconds > 0 ? double(seen) / s.seconds : 0.0;
  return s;
}

}  // namespace xgrad
