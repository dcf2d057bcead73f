// The trainers' divergence test: see training.hpp.
#include "examples/common/training.hpp"

#include <cmath>
#include <string>

namespace xgrad::examples {

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

}  // namespace xgrad::examples
