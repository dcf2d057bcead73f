// Conv2d: see conv2d.hpp.
#include "xgrad/layers/conv2d.hpp"

#include <cstring>
#include <sstream>

#include "xgrad/core/error.hpp"
#include "xgrad/layers/init.hpp"
#include "xgrad/layers/size2_str.hpp"

namespace xgrad {

using detail::size2_str;

Conv2dPadding::Conv2dPadding(const char* mode) : size(0) {
  XGRAD_CHECK(mode != nullptr && (std::strcmp(mode, "same") == 0 || std::strcmp(mode, "valid") == 0),
              "Conv2d: padding must be a size, \"same\" or \"valid\", got \"", mode ? mode : "(null)", "\"");
  same = std::strcmp(mode, "same") == 0;
}

Conv2d::Conv2d(const Conv2dOptions& options, Generator& gen) : options_(options), padding_(options.padding.size) {
  const Conv2dOptions& o = options;
  XGRAD_CHECK(o.in_channels > 0 && o.out_channels > 0, "Conv2d: in_channels ", o.in_channels,
              " and out_channels ", o.out_channels, " must be positive");
  XGRAD_CHECK(o.kernel_size.h > 0 && o.kernel_size.w > 0, "Conv2d: kernel_size ", size2_str(o.kernel_size),
              " must be positive");
  XGRAD_CHECK(o.stride.h > 0 && o.stride.w > 0, "Conv2d: stride ", size2_str(o.stride), " must be positive");
  XGRAD_CHECK(o.dilation.h > 0 && o.dilation.w > 0, "Conv2d: dilation ", size2_str(o.dilation),
              " must be positive");
  XGRAD_CHECK(o.groups >= 1, "Conv2d: groups must be >= 1, got ", o.groups);
  XGRAD_CHECK(o.in_channels % o.groups == 0, "Conv2d: in_channels ", o.in_channels, " is not divisible by groups ",
              o.groups);
  XGRAD_CHECK(o.out_channels % o.groups == 0, "Conv2d: out_channels ", o.out_channels,
              " is not divisible by groups ", o.groups);
  if (o.padding.same) {
    // Output size = input size needs a total padding of dilation * (kernel - 1) split evenly; PyTorch pads
    // an odd remainder on one side only, which a symmetric-padding conv cannot express.
    XGRAD_CHECK(o.stride == Size2(1), "Conv2d: padding=\"same\" needs stride 1, got stride ", size2_str(o.stride));
    const int th = o.dilation.h * (o.kernel_size.h - 1), tw = o.dilation.w * (o.kernel_size.w - 1);
    XGRAD_CHECK(th % 2 == 0 && tw % 2 == 0, "Conv2d: padding=\"same\" needs an odd kernel_size (or an even ",
                "dilation), got kernel_size ", size2_str(o.kernel_size), " with dilation ", size2_str(o.dilation));
    padding_ = Size2(th / 2, tw / 2);
  }
  XGRAD_CHECK(padding_.h >= 0 && padding_.w >= 0, "Conv2d: padding ", size2_str(padding_), " is negative");

  const auto out = static_cast<std::size_t>(o.out_channels), in = static_cast<std::size_t>(o.in_channels / o.groups);
  weight_ = register_parameter(
      "weight", empty({out, in, static_cast<std::size_t>(o.kernel_size.h), static_cast<std::size_t>(o.kernel_size.w)}));
  if (o.bias) bias_ = register_parameter("bias", empty({out}));
  default_layer_init_(weight_, bias_, gen);
}

// conv2d checks the input against the weight (channels, rank, a kernel that fits); its message comes back
// with describe() in front.
Tensor Conv2d::forward(const Tensor& x) {
  return call_op([&] {
    return conv2d(x, weight_, bias_, options_.stride, padding_, options_.dilation, options_.groups);
  });
}

// The fresh layer's random initial values are overwritten by clone_into.
std::shared_ptr<Module> Conv2d::clone() const {
  Generator unused;
  return clone_into(std::make_shared<Conv2d>(options_, unused));
}

std::string Conv2d::describe() const {
  std::ostringstream out;
  out << "Conv2d(" << options_.in_channels << ", " << options_.out_channels
      << ", kernel_size=" << size2_str(options_.kernel_size) << ", stride=" << size2_str(options_.stride);
  if (options_.padding.same) {
    out << ", padding=\"same\"";
  } else if (!(padding_ == Size2(0))) {
    out << ", padding=" << size2_str(padding_);
  }
  if (!(options_.dilation == Size2(1))) out << ", dilation=" << size2_str(options_.dilation);
  if (options_.groups != 1) out << ", groups=" << options_.groups;
  if (!options_.bias) out << ", bias=false";
  out << ")";
  return out.str();
}

}  // namespace xgrad
