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

std::string Pool2d::describe() const {
  std::ostringstream out;
  out << name_ << "(kernel_size=" << size2_str(options_.kernel_size) << ", stride=" << size2_str(stride())
      << ", padding=" << size2_str(options_.padding) << ")";
  return out.str();
}

// The ops check the input (rank, a kernel that fits); their messages come back with describe() in front.
Tensor MaxPool2d::forward(const Tensor& x) {
  return call_op([&] { return max_pool2d(x, options_.kernel_size, stride(), options_.padding); });
}

Tensor AvgPool2d::forward(const Tensor& x) {
  return call_op([&] { return avg_pool2d(x, options_.kernel_size, stride(), options_.padding); });
}

}  // namespace xgrad
