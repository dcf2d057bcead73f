// Reductions (sum, mean, var, max) over any set of axes, each forward followed by its backward.
// Every loop walks the contiguous input once in order through kernels::for_each_reduce, accumulating in
// double, so results are deterministic. Backward builds the full input-shaped gradient itself: the
// engine only sums gradients down to an input's shape, it never expands them.
#include "xgrad/core/ops/reduce.hpp"

#include <cmath>
#include <limits>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/kernels/reduce_layout.hpp"

namespace xgrad {
namespace {

// What every reduction needs to know about its axes.
struct Plan {
  kernels::ReduceLayout layout;
  Shape out_shape;  // with or without the reduced axes, as keepdim asks
  std::size_t n;    // elements per output slot (product of the reduced sizes)
};

Plan make_plan(const Tensor& x, const std::vector<int>& axes, bool keepdim, const char* op) {
  XGRAD_CHECK(x.defined(), op, ": the input is undefined");
  const Shape& shape = x.shape();
  const Axes reduced = normalize_axes(axes, shape.size(), op);
  Plan plan{kernels::make_reduce_layout(shape, reduced), {}, 1};
  std::size_t next = 0;  // walks the sorted reduced axes
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (next < reduced.size() && reduced[next] == i) {
      ++next;
      plan.n *= shape[i];
      if (keepdim) plan.out_shape.push_back(1);
    } else {
      plan.out_shape.push_back(shape[i]);
    }
  }
  return plan;
}

// dx[i] = g[slot(i)] / divisor: the gradient of a sum (divisor 1) or a mean (divisor n), x-shaped.
Tensor expand_back(const Tensor& g, const kernels::ReduceLayout& layout, const Shape& x_shape,
                   float divisor) {
  Tensor dx = empty(x_shape);
  float* d = dx.data();
  const float* gv = g.data();
  kernels::for_each_reduce(layout, [&](std::size_t i, std::size_t o) { d[i] = gv[o] / divisor; });
  return dx;
}

// mean[o] = (sum of x over slot o) / n, accumulated in double.
std::vector<double> slot_means(const Tensor& x, const Plan& plan) {
  std::vector<double> acc(plan.layout.out_numel, 0.0);
  const float* xv = x.data();
  kernels::for_each_reduce(plan.layout, [&](std::size_t i, std::size_t o) { acc[o] += xv[i]; });
  for (double& v : acc) v /= static_cast<double>(plan.n);
  return acc;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
  Plan plan = make_plan(x, axes, keepdim, "sum");
  Tensor out = empty(plan.out_shape);
  kernels::reduce_sum(out.data(), x.data(), plan.layout);
  if (!needs_grad({x})) return out;
  // dx = g broadcast back over the reduced axes.
  return record(out, "sum", {x}, [layout = plan.layout, shape = x.shape()](const Tensor& g) {
    return TensorList{expand_back(g, layout, shape, 1.0f)};
  });
}

Tensor mean(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
  Plan plan = make_plan(x, axes, keepdim, "mean");
  XGRAD_CHECK(plan.n > 0, "mean: the reduced axes of shape ", shape_str(x.shape()), " hold no elements");
  Tensor out = empty(plan.out_shape);
  const std::vector<double> means = slot_means(x, plan);
  for (std::size_t o = 0; o < means.size(); ++o) out.data()[o] = static_cast<float>(means[o]);
  if (!needs_grad({x})) return out;
  // dx = g / n broadcast back over the reduced axes.
  return record(out, "mean", {x}, [layout = plan.layout, shape = x.shape(), n = plan.n](const Tensor& g) {
    return TensorList{expand_back(g, layout, shape, static_cast<float>(n))};
  });
}

Tensor var(const Tensor& x, const std::vector<int>& axes, bool unbiased, bool keepdim) {
  Plan plan = make_plan(x, axes, keepdim, "var");
  // torch.var returns nan here; a silent nan is worse than a clear error.
  XGRAD_CHECK(plan.n > (unbiased ? 1u : 0u), "var: the reduced axes of shape ", shape_str(x.shape()),
              " hold ", plan.n, " element", plan.n == 1 ? "" : "s",
              unbiased ? ", the unbiased variance needs at least 2" : "");
  // Two passes in double: var[o] = sum((x - mean[o])^2) / d, d = n - 1 (unbiased) or n.
  const std::vector<double> means = slot_means(x, plan);
  const double d = static_cast<double>(unbiased ? plan.n - 1 : plan.n);
  std::vector<double> acc(plan.layout.out_numel, 0.0);
  const float* xv = x.data();
  kernels::for_each_reduce(plan.layout, [&](std::size_t i, std::size_t o) {
    const double c = xv[i] - means[o];
    acc[o] += c * c;
  });
  Tensor out = empty(plan.out_shape);
  for (std::size_t o = 0; o < acc.size(); ++o) out.data()[o] = static_cast<float>(acc[o] / d);
  if (!needs_grad({x})) return out;
  // dx = 2 (x - mean) g / d
  return record(out, "var", {x}, [x, layout = plan.layout, means, d](const Tensor& g) {
    Tensor dx = empty(x.shape());
    float* dv = dx.data();
    const float *xs = x.data(), *gv = g.data();
    kernels::for_each_reduce(layout, [&](std::size_t i, std::size_t o) {
      dv[i] = static_cast<float>(2.0 * (xs[i] - means[o]) * gv[o] / d);
    });
    return TensorList{dx};
  }, {x});
}

Tensor max(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
  Plan plan = make_plan(x, axes, keepdim, "max");
  XGRAD_CHECK(plan.n > 0, "max: the reduced axes of shape ", shape_str(x.shape()), " hold no elements");
  // The first maximal element of each slot in input order; a NaN wins (and propagates), like torch.max.
  constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> arg(plan.layout.out_numel, none);
  const float* xv = x.data();
  kernels::for_each_reduce(plan.layout, [&](std::size_t i, std::size_t o) {
    const std::size_t a = arg[o];
    if (a == none || xv[i] > xv[a] || (std::isnan(xv[i]) && !std::isnan(xv[a]))) arg[o] = i;
  });
  Tensor out = empty(plan.out_shape);
  for (std::size_t o = 0; o < arg.size(); ++o) out.data()[o] = xv[arg[o]];
  if (!needs_grad({x})) return out;
  // dx[arg[o]] = g[o], zero elsewhere.
  return record(out, "max", {x}, [arg = std::move(arg), shape = x.shape()](const Tensor& g) {
    Tensor dx = zeros(shape);
    for (std::size_t o = 0; o < arg.size(); ++o) dx.data()[arg[o]] = g.data()[o];
    return TensorList{dx};
  });
}

}  // namespace xgrad
