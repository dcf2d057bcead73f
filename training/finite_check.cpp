// The NaN guard's checks: see finite_check.hpp.
#include "xgrad/training/finite_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>

namespace xgrad {

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

std::string first_non_finite(const std::vector<NamedTensor>& named, const char* what) {
  for (const auto& [name, t] : named) {
    if (!t.defined() || all_finite(t.data(), t.numel())) continue;
    const float* p = t.data();
    const float* bad = std::find_if(p, p + t.numel(), [](float v) { return !std::isfinite(v); });
    return std::string(std::isnan(*bad) ? "NaN" : "an infinity") + " in " + what + " '" + name + "'";
  }
  return "";
}

std::string value_text(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "infinity" : "-infinity";
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace xgrad
