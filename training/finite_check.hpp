// The NaN guard's checks: is every value of a tensor finite, which named tensor holds the first NaN or
// infinity, and NonFiniteError, the error train_epoch throws when one appears (so that fit, or a trainer,
// can roll back instead of stopping). A check, not a repair: nothing is changed.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "xgrad/core/error.hpp"
#include "xgrad/core/named_tensor.hpp"

namespace xgrad {

// A NaN or an infinity in the loss, a gradient, a weight or a buffer; the message names the epoch, the step
// and the tensor.
class NonFiniteError : public Error {
 public:
  using Error::Error;
};

// True when none of the n floats at p is NaN or infinite.
bool all_finite(const float* p, std::size_t n);

// "NaN in <what> '<name>'" (or "an infinity in ...") for the first of `named` holding one, or "" if none does.
std::string first_non_finite(const std::vector<NamedTensor>& named, const char* what);

// "NaN", "infinity", "-infinity" or the number, for messages (printf's "-nan" says nothing useful).
std::string value_text(double v);

}  // namespace xgrad
