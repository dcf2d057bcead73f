// What the kernel tests share to compare a fast path with its reference twin: a scope that switches the
// fast paths on or off, and bit-for-bit equality of two results.
#pragma once
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

}  // namespace xgrad::testing
