// What the kernel tests share to compare a fast path with its reference twin: a scope that switches the
// fast paths on or off, bit-for-bit equality of two results, and closeness where the twins sum in another
// order.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "xgrad/core/kernels/cpu_features.hpp"

namespace xgrad::testing {

// Switches the fast paths on or off for a scope, restoring the previous setting (XGRAD_KERNELS=reference
// turns them off for a whole run) when it ends, even on failure.
struct FastPaths {
  explicit FastPaths(bool on) : previous(kernels::fast_paths_enabled()) { kernels::set_fast_paths_enabled(on); }
  ~FastPaths() { kernels::set_fast_paths_enabled(previous); }
  bool previous;
};

// Empty vectors compare equal without memcmp: their data() may be null, which memcmp must not be given.
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// The same size, and every value of a within tol max(1, |b|) of b's: relative for large values, absolute
// near zero.
inline bool close_values(const std::vector<float>& a, const std::vector<float>& b, float tol) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!(std::fabs(a[i] - b[i]) <= tol * std::max(1.0f, std::fabs(b[i])))) return false;
  }
  return true;
}

}  // namespace xgrad::testing
