// The seeded random generator every random factory, initializer, dropout mask and shuffle draws from.
// xoshiro256** seeded by splitmix64: its whole state is four integers, so a checkpoint can save and
// restore it exactly, and its output does not depend on the standard library's distributions.
#pragma once
#include <array>
#include <cstdint>

namespace xgrad {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0);

  std::uint64_t next_u64();
  // Uniform in [0, 1) with 24 random bits: every value is an exact float.
  float uniform();
  // Standard normal by Box-Muller (one draw per call, the pair's second value is discarded).
  float normal();
  // Uniform integer in [0, n) without modulo bias; n > 0.
  std::uint64_t below(std::uint64_t n);

  std::array<std::uint64_t, 4> state() const { return state_; }
  void set_state(const std::array<std::uint64_t, 4>& state);

 private:
  std::array<std::uint64_t, 4> state_{};
};

}  // namespace xgrad
