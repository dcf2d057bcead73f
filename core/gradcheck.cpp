// The gradient checker: see gradcheck.hpp.
#include "xgrad/core/gradcheck.hpp"

#include <cmath>
#include <sstream>

#include "xgrad/core/autograd.hpp"

namespace xgrad {
namespace {

double weighted_sum(const Tensor& y, const Tensor& u) {
  double total = 0.0;
  for (std::size_t i = 0; i < y.numel(); ++i) total += double(y.data()[i]) * double(u.data()[i]);
  return total;
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  GradcheckResult result;
  for (const Tensor& x : inputs) {
    if (x.requires_grad()) const_cast<Tensor&>(x).zero_grad();
  }
  Tensor y = f(inputs);
  Generator gen(options.seed);
  Tensor u = randn(y.shape(), gen);
  y.backward(u);

  for (std::size_t k = 0; k < inputs.size(); ++k) {
    Tensor x = inputs[k];
    if (!x.requires_grad()) continue;
    Tensor analytic = x.grad();
    if (!analytic.defined()) {
      result.ok = false;
      result.message = "input " + std::to_string(k) + " received no gradient";
      return result;
    }
    NoGradGuard no_grad;
    for (std::size_t i = 0; i < x.numel(); ++i) {
      const float original = x.data()[i];
      x.data()[i] = static_cast<float>(original + options.step);
      const double plus = weighted_sum(f(inputs), u);
      x.data()[i] = static_cast<float>(original - options.step);
      const double minus = weighted_sum(f(inputs), u);
      x.data()[i] = original;
      const double numeric = (plus - minus) / (2.0 * options.step);
      const double a = analytic.data()[i];
      if (std::fabs(a - numeric) > options.atol + options.rtol * std::fabs(numeric)) {
        std::ostringstream msg;
        msg << "input " << k << " element " << i << ": analytic " << a << " vs numeric " << numeric;
        result.ok = false;
        result.message = msg.str();
        return result;
      }
    }
  }
  return result;
}

}  // namespace xgrad
