// Catch assertions the op and layer tests share: a tensor against double reference values, two tensors
// against each other (the fused path against the composed one), and a finite-difference gradient check
// that reports its first mismatch. Each test states why its margins and step suit its op.
#pragma once
#include <catch2/catch.hpp>
#include <functional>
#include <vector>

#include "xgrad/core/tensor.hpp"
#include "gradcheck.hpp"

namespace xgrad::testing {

// Every value of `got` within `margin` of the reference computed in double.
inline void check_close(const Tensor& got, const std::vector<double>& want, double margin) {
  REQUIRE(got.numel() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(got.data()[i] == Approx(want[i]).margin(margin));
}

// a and b of the same shape, every value within `margin`.
inline void check_same(const Tensor& a, const Tensor& b, double margin) {
  REQUIRE(a.shape() == b.shape());
  for (std::size_t i = 0; i < a.numel(); ++i) CHECK(a.data()[i] == Approx(b.data()[i]).margin(margin));
}

// gradcheck (gradcheck.hpp) of f at `in`, its message shown on failure.
inline void check_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                            const std::vector<Tensor>& in, const GradcheckOptions& options = {}) {
  const GradcheckResult r = gradcheck(f, in, options);
  INFO(r.message);
  CHECK(r.ok);
}

}  // namespace xgrad::testing
