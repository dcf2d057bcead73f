// What every op's test shares for gradient checks: the library's xgrad::gradcheck (core/gradcheck.hpp),
// and random inputs and parameters (default ones and zeros hide bugs). Each test picks h and tolerances for
// its op and says why.
#pragma once
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "xgrad/core/gradcheck.hpp"
#include "xgrad/core/tensor.hpp"

namespace xgrad::testing {

using xgrad::gradcheck;  // the library's (core/gradcheck.hpp)
using xgrad::GradcheckOptions;
using xgrad::GradcheckResult;

// A leaf that requires grad, with N(0, 1) values drawn from `seed`.
inline Tensor random_param(const Shape& shape, std::uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen).set_requires_grad();
}

// Overwrites t in place with N(0, 1) values from `seed` (layers' default ones and zeros hide bugs).
inline void randomize(Tensor t, std::uint64_t seed) {
  Generator gen(seed);
  const Tensor r = randn(t.shape(), gen);
  std::copy_n(r.data(), t.numel(), t.data());
}

}  // namespace xgrad::testing
