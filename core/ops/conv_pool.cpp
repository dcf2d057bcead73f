// conv2d, max_pool2d and avg_pool2d: argument checks, then the kernels of core/kernels/conv2d and pool2d,
// each forward followed by its backward. The kernels hold the loops; this file holds the graph.
#include "xgrad/core/ops/conv_pool.hpp"

#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <xtensor/xstorage.hpp>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/kernel_args.hpp"
#include "xgrad/core/kernels/conv2d.hpp"
#include "xgrad/core/kernels/conv2d_grouped.hpp"
#include "xgrad/core/kernels/pool2d.hpp"
#include "xgrad/core/small_object_pool.hpp"
#include "xgrad/core/storage_pool.hpp"

namespace xgrad {
namespace {

std::string str(Size2 s) {
  std::ostringstream out;
  out << "(" << s.h << ", " << s.w << ")";
  return out.str();
}

void check_input(const Tensor& x, const char* op) {
  XGRAD_CHECK(x.defined(), op, ": the input is undefined");
  XGRAD_CHECK(x.dim() == 4, op, ": the input must be (N, C, H, W), got shape ", shape_str(x.shape()));
}

// Output length along one axis, PyTorch's floor formula; 0 when the (dilated) kernel does not fit.
int out_size(int in, int kernel, int stride, int pad, int dilation) {
  const std::int64_t span = std::int64_t(dilation) * (kernel - 1) + 1;
  const std::int64_t room = std::int64_t(in) + 2 * std::int64_t(pad) - span;
  return room < 0 ? 0 : int(room / stride + 1);
}

kernels::Pool2dDims pool_dims(const Tensor& x, Size2 kernel, std::optional<Size2> stride, Size2 padding,
                              const char* op) {
  check_input(x, op);
  const Size2 s = stride.value_or(kernel);
  XGRAD_CHECK(kernel.h >= 1 && kernel.w >= 1, op, ": kernel size must be >= 1, got ", str(kernel));
  XGRAD_CHECK(s.h >= 1 && s.w >= 1, op, ": stride must be >= 1, got ", str(s));
  XGRAD_CHECK(padding.h >= 0 && padding.w >= 0, op, ": padding must be >= 0, got ", str(padding));
  XGRAD_CHECK(padding.h <= kernel.h / 2 && padding.w <= kernel.w / 2, op, ": padding ", str(padding),
              " must be at most half the kernel size ", str(kernel));
  const int H = int(x.size(2)), W = int(x.size(3));
  const int OH = out_size(H, kernel.h, s.h, padding.h, 1), OW = out_size(W, kernel.w, s.w, padding.w, 1);
  XGRAD_CHECK(OH >= 1 && OW >= 1, op, ": the kernel ", str(kernel), " does not fit the input size (", H, ", ",
              W, ") with padding ", str(padding), " (input shape ", shape_str(x.shape()), ")");
  return {.N = int(x.size(0)), .C = int(x.size(1)), .H = H, .W = W, .KH = kernel.h, .KW = kernel.w,
          .SH = s.h, .SW = s.w, .PH = padding.h, .PW = padding.w, .OH = OH, .OW = OW};
}

// groups > 1: the grouped kernels (core/kernels/conv2d_grouped), any stride, padding and dilation. `d` is
// the whole convolution's geometry, g one group's (C / groups channels, O / groups filters).
Tensor conv2d_grouped(const Tensor& x, const Tensor& weight, const Tensor& bias, const kernels::Conv2dDims& d,
                      int groups) {
  kernels::Conv2dDims g = d;
  g.C = d.C / groups;
  g.O = d.O / groups;
  Tensor out = empty({x.size(0), weight.size(0), std::size_t(d.OH), std::size_t(d.OW)});
  kernels::conv2d_grouped_forward(out.data(), x.data(), weight.data(), data_or_null(bias), g, groups);
  TensorList inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  if (!needs_grad(inputs)) return out;
  // dx_g = col2im(weight_g^T dout_g); dweight_g = sum_n dout_g col_g^T; dbias = sum of dout over n, oh, ow.
  return record(out, "conv2d", inputs, [x, weight, bias, d, g, groups](const Tensor& up) {
    TensorList grads(bias.defined() ? 3 : 2);
    if (x.requires_grad()) {
      grads[0] = empty(x.shape());
      kernels::conv2d_grouped_backward_input(grads[0].data(), up.data(), weight.data(), g, groups);
    }
    if (weight.requires_grad()) {
      grads[1] = empty(weight.shape());
      kernels::conv2d_grouped_backward_weight(grads[1].data(), up.data(), x.data(), g, groups);
    }
    if (bias.defined() && bias.requires_grad()) {
      grads[2] = empty(bias.shape());
      kernels::conv2d_backward_bias(grads[2].data(), up.data(), d);
    }
    return grads;
  }, {weight.requires_grad() ? x : Tensor(), x.requires_grad() ? weight : Tensor()});  // dW reads x, dx reads W
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding,
              Size2 dilation, int groups) {
  check_input(x, "conv2d");
  XGRAD_CHECK(weight.defined(), "conv2d: the weight is undefined");
  XGRAD_CHECK(weight.dim() == 4, "conv2d: the weight must be (O, C, KH, KW), got shape ",
              shape_str(weight.shape()));
  XGRAD_CHECK(groups >= 1, "conv2d: groups must be >= 1, got ", groups);
  if (groups == 1) {
    XGRAD_CHECK(weight.size(1) == x.size(1), "conv2d: the input ", shape_str(x.shape()), " has ", x.size(1),
                " channels but the weight ", shape_str(weight.shape()), " expects ", weight.size(1));
  } else {
    const auto G = std::size_t(groups);
    XGRAD_CHECK(x.size(1) % G == 0, "conv2d: the input's ", x.size(1), " channels are not divisible by groups ",
                groups, " (input ", shape_str(x.shape()), ")");
    XGRAD_CHECK(weight.size(0) % G == 0, "conv2d: the weight's ", weight.size(0),
                " filters are not divisible by groups ", groups, " (weight ", shape_str(weight.shape()), ")");
    XGRAD_CHECK(weight.size(1) == x.size(1) / G, "conv2d: the input ", shape_str(x.shape()), " has ", x.size(1),
                " channels, so with groups ", groups, " the weight ", shape_str(weight.shape()), " must have ",
                x.size(1) / G, " input channels (O, C / groups, KH, KW)");
  }
  XGRAD_CHECK(weight.size(2) >= 1 && weight.size(3) >= 1, "conv2d: the weight ", shape_str(weight.shape()),
              " has an empty kernel");
  XGRAD_CHECK(!bias.defined() || bias.shape() == Shape{weight.size(0)}, "conv2d: the bias must have shape (",
              weight.size(0), ") for the weight ", shape_str(weight.shape()), ", got ",
              shape_str(bias.shape()));
  XGRAD_CHECK(stride.h >= 1 && stride.w >= 1, "conv2d: stride must be >= 1, got ", str(stride));
  XGRAD_CHECK(padding.h >= 0 && padding.w >= 0, "conv2d: padding must be >= 0, got ", str(padding));
  XGRAD_CHECK(dilation.h >= 1 && dilation.w >= 1, "conv2d: dilation must be >= 1, got ", str(dilation));
  const int H = int(x.size(2)), W = int(x.size(3)), KH = int(weight.size(2)), KW = int(weight.size(3));
  const int OH = out_size(H, KH, stride.h, padding.h, dilation.h);
  const int OW = out_size(W, KW, stride.w, padding.w, dilation.w);
  XGRAD_CHECK(OH >= 1 && OW >= 1, "conv2d: the kernel (", KH, ", ", KW, ") with dilation ", str(dilation),
              " does not fit the input size (", H, ", ", W, ") with padding ", str(padding), " (input ",
              shape_str(x.shape()), ", weight ", shape_str(weight.shape()), ")");
  const kernels::Conv2dDims d{.N = int(x.size(0)), .C = int(x.size(1)), .H = H, .W = W,
                              .O = int(weight.size(0)), .KH = KH, .KW = KW,
                              .SH = stride.h, .SW = stride.w, .PH = padding.h, .PW = padding.w,
                              .DH = dilation.h, .DW = dilation.w, .OH = OH, .OW = OW};
  if (groups > 1) return conv2d_grouped(x, weight, bias, d, groups);

  Tensor out = empty({x.size(0), weight.size(0), std::size_t(OH), std::size_t(OW)});
  TensorList inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  const float* b = data_or_null(bias);
  // The twin is chosen once, in core/kernels (conv2d_plan); the backward runs the forward's twin. On the
  // AVX-512 path `saved` is the zero-padded copy of x that serves the weight gradient (without a graph to
  // record, each thread pads one image at a time instead).
  const kernels::Conv2dPlan plan = kernels::conv2d_plan(d);
  auto buffer = [](std::size_t size) { return size > 0 ? empty({size}) : Tensor(); };
  const bool backward = needs_grad(inputs);
  Tensor workspace = buffer(plan.workspace), saved = backward ? buffer(plan.saved) : Tensor();
  kernels::conv2d_forward(plan, out.data(), data_or_null(saved), x.data(), weight.data(), b,
                          data_or_null(workspace), d);
  if (!backward) return out;
  // dx = conv_transpose(g, weight); dweight = sum_n g_n col_n^T; dbias = sum of g over n, oh, ow.
  return record(out, "conv2d", inputs, [x, weight, bias, saved, plan, d, buffer](const Tensor& g) {
    TensorList grads(bias.defined() ? 3 : 2);
    Tensor work = buffer(plan.workspace);
    if (x.requires_grad()) {
      grads[0] = empty(x.shape());
      kernels::conv2d_backward_input(plan, grads[0].data(), g.data(), weight.data(), data_or_null(work), d);
    }
    if (weight.requires_grad()) {
      grads[1] = empty(weight.shape());
      kernels::conv2d_backward_weight(plan, grads[1].data(), g.data(), x.data(), data_or_null(saved),
                                      data_or_null(work), d);
    }
    if (bias.defined() && bias.requires_grad()) {
      grads[2] = empty(bias.shape());
      kernels::conv2d_backward_bias(grads[2].data(), g.data(), d);
    }
    return grads;
  }, {weight.requires_grad() ? x : Tensor(), x.requires_grad() ? weight : Tensor()});  // dW reads x, dx reads W
}

Tensor max_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride, Size2 padding) {
  const kernels::Pool2dDims d = pool_dims(x, kernel, stride, padding, "max_pool2d");
  Tensor out = empty({x.size(0), x.size(1), std::size_t(d.OH), std::size_t(d.OW)});
  if (!needs_grad({x})) {
    kernels::max_pool2d_forward(out.data(), nullptr, x.data(), d);
    return out;
  }
  // The winners' positions are all the backward needs; uninitialized pool memory like a tensor's.
  using Argmax = xt::uvector<std::int32_t, PoolAllocator<std::int32_t>>;
  auto argmax = std::allocate_shared<Argmax>(SmallObjectAllocator<Argmax>(), out.numel());
  kernels::max_pool2d_forward(out.data(), argmax->data(), x.data(), d);
  return record(out, "max_pool2d", {x}, [argmax, d, shape = x.shape()](const Tensor& g) {
    Tensor dx = empty(shape);
    kernels::max_pool2d_backward(dx.data(), g.data(), argmax->data(), d);
    return TensorList{dx};
  });
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride, Size2 padding) {
  const kernels::Pool2dDims d = pool_dims(x, kernel, stride, padding, "avg_pool2d");
  Tensor out = empty({x.size(0), x.size(1), std::size_t(d.OH), std::size_t(d.OW)});
  kernels::avg_pool2d_forward(out.data(), x.data(), d);
  return record(out, "avg_pool2d", {x}, [d, shape = x.shape()](const Tensor& g) {
    Tensor dx = empty(shape);
    kernels::avg_pool2d_backward(dx.data(), g.data(), d);
    return TensorList{dx};
  });
}

}  // namespace xgrad
