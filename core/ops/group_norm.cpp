// group_norm and the graph op it shares with layer_norm: one forward kernel call recorded with the fused
// backward kernel right below it.
#include "xgrad/core/ops/group_norm.hpp"

#include <vector>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/kernel_args.hpp"
#include "xgrad/core/kernels/group_norm.hpp"

namespace xgrad {
namespace detail {

Tensor group_norm_op(const Tensor& x, std::size_t N, std::size_t C, std::size_t HW, std::size_t G,
                     const Tensor& weight, const Tensor& bias, float eps, const char* op) {
  Tensor out = empty(x.shape()), mean = empty({N, G}), rstd = empty({N, G});
  kernels::group_norm_forward(out.data(), mean.data(), rstd.data(), x.data(), data_or_null(weight),
                              data_or_null(bias), N, C, HW, G, eps);
  // The fused backward: see kernels::group_norm_backward for the formula.
  return record(out, op, {x, weight, bias}, [x, mean, rstd, weight, bias, N, C, HW, G](const Tensor& g) {
    Tensor dx = grad_buffer(x), dgamma = grad_buffer(weight), dbeta = grad_buffer(bias);
    kernels::group_norm_backward(data_or_null(dx), data_or_null(dgamma), data_or_null(dbeta), g.data(), x.data(),
                                 mean.data(), rstd.data(), data_or_null(weight), N, C, HW, G);
    return TensorList{dx, dgamma, dbeta};
  }, {x, weight});
}

}  // namespace detail

Tensor group_norm(const Tensor& x, int num_groups, const Tensor& weight, const Tensor& bias, float eps) {
  XGRAD_CHECK(x.defined() && x.dim() >= 2, "group_norm: expected input of shape (N, C, *), got ",
              x.defined() ? shape_str(x.shape()) : "undefined");
  const Shape& s = x.shape();
  const std::size_t N = s[0], C = s[1], HW = numel(Shape(s.begin() + 2, s.end()));
  XGRAD_CHECK(num_groups > 0 && C % static_cast<std::size_t>(num_groups) == 0, "group_norm: ", C,
              " channels (input of shape ", shape_str(s), ") do not split into ", num_groups, " groups");
  XGRAD_CHECK(eps >= 0.0f, "group_norm: eps must be >= 0, got ", eps);
  for (const Tensor* p : {&weight, &bias}) {
    XGRAD_CHECK(!p->defined() || p->shape() == Shape{C}, "group_norm: ", p == &weight ? "weight" : "bias",
                " of shape ", shape_str(p->shape()), " does not match the ", C, " channels of input ", shape_str(s));
  }
  return detail::group_norm_op(x, N, C, HW, static_cast<std::size_t>(num_groups), weight, bias, eps, "group_norm");
}

}  // namespace xgrad
