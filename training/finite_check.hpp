// The NaN guard's checks: is every value of a tensor finite, which named tensor holds the first NaN or
// infinity, and NonFiniteError, the error train_epoch throws when one appears (so that fit, or a trainer,
// can roll back instead of stopping). A check, not a repair: nothing is changed.
#pragma once
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "xgrad/core/error.hpp"
#include "xgrad/core/named_tensor.hpp"

namespace xgrad {

// A NaN or an infinity in the loss, a gradient, a weight or a buffer; the message names the epoch, the step
// and the tensor. train_epoch also gives them as numbers, so that a caller can record where training stopped
// (a convergence study records the diverging step's loss and goes on with its next run).
class NonFiniteError : public Error {
 public:
  struct Where {
    int epoch = 0;
    std::size_t step = 0;        // within the epoch, from 1 (the last step done, for a weight or a buffer)
    double loss = std::numeric_limits<double>::quiet_NaN();  // the step's loss (after EpochOptions::reduce_loss)
    std::size_t batch_size = 0;  // the step's samples; 0 for a weight or a buffer found at the epoch's end
  };
  using Error::Error;
  NonFiniteError(const std::string& message, const Where& where) : Error(message), where_(where) {}
  const Where& where() const { return where_; }

 private:
  Where where_;
};

// True when none of the n floats at p is NaN or infinite.
bool all_finite(const float* p, std::size_t n);

// "NaN in <what> '<name>'" (or "an infinity in ...") for the first of `named` holding one, or "" if none does.
std::string first_non_finite(const std::vector<NamedTensor>& named, const char* what);

// "NaN", "infinity", "-infinity" or the number, for messages (printf's "-nan" says nothing useful).
std::string value_text(double v);

}  // namespace xgrad
