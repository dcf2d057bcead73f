// Finite-difference gradient checker used by every op's test.
// L = sum(u * f(inputs)) with a random upstream u (an all-ones u hides bugs, in BN especially), summed in
// double. The analytic gradient comes from backward(u); the numeric one from central differences
// (L(x + h) - L(x - h)) / 2h on each input element. float32 forward passes limit the agreement to about
// sqrt(float eps) relative, so each test picks h and tolerances for its op and says why.
#pragma once
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "xgrad/core/tensor.hpp"

namespace xgrad::testing {

struct GradcheckOptions {
  double step = 1e-2;  // h
  double atol = 1e-3;
  double rtol = 1e-2;
  std::uint64_t seed = 1234;
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // the first mismatch: input, element, analytic, numeric
};

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

// Inputs must require grad to be checked; inputs that don't are held fixed.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace xgrad::testing
