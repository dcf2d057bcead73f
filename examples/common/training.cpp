// The shared training loop: see training.hpp.
#include "examples/common/training.hpp"

#include <cmath>

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops/loss.hpp"
#include "examples/common/progress.hpp"

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

EpochResult train_epoch(Module& model, DataLoader& loader, Optimizer& optimizer, LRScheduler* scheduler,
                        int epoch, const std::string& label, const StepCallback& on_step) {
  model.train();
  ProgressLine progress(label, loader.size());
  double loss_sum = 0;
  std::size_t seen = 0, correct = 0, step = 0;
  for (const Batch& batch : loader) {
    optimizer.zero_grad();
    Tensor logits = model(batch.inputs);
    Tensor loss = cross_entropy(logits, batch.labels);
    const double loss_value = loss.item();
    XGRAD_CHECK(std::isfinite(loss_value), "training stopped: the loss is ", loss_value, " at epoch ", epoch,
                ", step ", step + 1, " (lower the learning rate?)");
    loss.backward();
    optimizer.step();
    if (scheduler) scheduler->step();
    ++step;
    const std::size_t n = batch.labels.size();
    loss_sum += loss_value * double(n);
    correct += count_correct(logits, batch.labels);
    seen += n;
    progress.update(step, loss_sum / double(seen), double(correct) / double(seen), seen);
    if (on_step && !on_step(step, loss_value)) break;
  }
  EpochResult result;
  result.epoch = epoch;
  result.seconds = progress.finish();
  result.train_loss = seen ? loss_sum / double(seen) : 0.0;
  result.train_accuracy = seen ? double(correct) / double(seen) : 0.0;
  result.images_per_second = result.seconds > 0 ? double(seen) / result.seconds : 0.0;
  return result;
}

double evaluate(Module& model, DataLoader& loader) {
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  std::size_t seen = 0, correct = 0;
  for (const Batch& batch : loader) {
    correct += count_correct(model(batch.inputs), batch.labels);
    seen += batch.labels.size();
  }
  model.train(was_training);
  return seen ? double(correct) / double(seen) : 0.0;
}

}  // namespace xgrad::examples
