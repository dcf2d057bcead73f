// Pooling layers: see pooling.hpp.
#include "xgrad/layers/pooling.hpp"

#include <sstream>

#include "xgrad/core/error.hpp"
#include "xgrad/layers/size2_str.hpp"

namespace xgrad {

using detail::size2_str;

Pool2d::Pool2d(const char* name, const Pool2dOptions& options) : name_(name), options_(options) {
  const Size2 k = options.kernel_size, s = stride(), p = options.padding;
  XGRAD_CHECK(k.h > 0 && k.w > 0, name, ": kernel_size ", size2_str(k), " must be positive");
  XGRAD_CHECK(s.h > 0 && s.w > 0, name, ": stride ", size2_str(s), " must be positive");
  XGRAD_CHECK(p.h >= 0 && p.w >= 0 && 2 * p.h <= k.h && 2 * p.w <= k.w, name, ": padding ", size2_str(p),
              " must be between 0 and half the kernel_size ", size2_str(k));
}

void Pool2d::check_input(const Tensor& x) const {
  XGRAD_CHECK(x.defined(), describe(), ": the input is undefined");
  XGRAD_CHECK(x.dim() == 4, describe(), ": expected input (N, C, H, W), got ", shape_str(x.shape()));
  const Size2 k = options_.kernel_size, p = options_.padding;
  XGRAD_CHECK(x.size(2) + 2 * static_cast<std::size_t>(p.h) >= static_cast<std::size_t>(k.h) &&
                  x.size(3) + 2 * static_cast<std::size_t>(p.w) >= static_cast<std::size_t>(k.w),
              describe(), ": input of shape ", shape_str(x.shape()), " is smaller than the kernel ", k.h, "x", k.w,
              " after padding");
}

std::string Pool2d::describe() const {
  std::ostringstream out;
  out << name_ << "(kernel_size=" << size2_str(options_.kernel_size) << ", stride=" << size2_str(stride())
      << ", padding=" << size2_str(options_.padding) << ")";
  return out.str();
}

Tensor MaxPool2d::forward(const Tensor& x) {
  check_input(x);
  return max_pool2d(x, options_.kernel_size, stride(), options_.padding);
}

Tensor AvgPool2d::forward(const Tensor& x) {
  check_input(x);
  return avg_pool2d(x, options_.kernel_size, stride(), options_.padding);
}

}  // namespace xgrad
