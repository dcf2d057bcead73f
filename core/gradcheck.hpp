// gradcheck: checks an op's backward against finite differences, for xgrad's own tests and for users'
// ops. L = sum(u * f(inputs)) with a random upstream u (an all-ones u hides bugs, in BN especially),
// summed in double. The analytic gradient comes from backward(u); the numeric one from central
// differences (L(x + h) - L(x - h)) / 2h on each input element. float32 forward passes limit the agreement
// to about sqrt(float eps) relative, so pick h and tolerances for the op (and keep inputs away from kinks
// such as ReLU's 0). Not a speed tool: it runs f twice per input element.
//
//   auto r = xgrad::gradcheck([](const std::vector<Tensor>& in) { return my_op(in[0], in[1]); }, {a, b});
//   if (!r.ok) std::puts(r.message.c_str());
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

struct GradcheckOptions {
  double step = 1e-2;  // h
  double atol = 1e-3;
  double rtol = 1e-2;  // |analytic - numeric| <= atol + rtol * |numeric|
  std::uint64_t seed = 1234;  // of u
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // the first mismatch: input, element, analytic, numeric
};

// Inputs that require grad are checked; the others are held fixed. f must be deterministic; it is called
// with the inputs perturbed in place, which are restored before gradcheck returns.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace xgrad
