// The trainers' glue around the library's training loop: see training.hpp.
#include "examples/common/training.hpp"

#include <cmath>
#include <memory>
#include <string>

#include "examples/common/stop_signal.hpp"
#include "xgrad/training/evaluate.hpp"
#include "xgrad/training/train_epoch.hpp"

namespace xgrad::examples {

EpochResult train_epoch(Module& model, DataLoader& loader, Optimizer& optimizer, LRScheduler* scheduler,
                        int epoch, const std::string& label, const StepCallback& on_step,
                        const GradientHook& after_backward, std::size_t skip_steps) {
  int stop_signal = 0;
  EpochOptions options{.epoch = epoch, .scheduler = scheduler, .progress = label, .after_backward = after_backward,
                       .skip_steps = skip_steps};
  options.on_step = [&](std::size_t step, double loss) {
    if (on_step && !on_step(step, loss)) return false;
    return (stop_signal = stop_agreed()) == 0;  // the step boundary: a consistent state to save (all ranks agree)
  };
  const EpochStats s = xgrad::train_epoch(model, loader, optimizer, options);
  EpochResult result;
  result.epoch = epoch;
  result.steps = s.steps;
  result.stop_signal = stop_signal;
  result.seconds = s.seconds;
  result.samples = s.samples;
  result.train_loss = s.loss;
  result.train_accuracy = s.samples ? s.accuracy : 0.0;
  result.images_per_second = s.samples_per_second;
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
  return xgrad::evaluate(model, loader, {std::make_shared<Accuracy>()}).at("accuracy");
}

}  // namespace xgrad::examples
