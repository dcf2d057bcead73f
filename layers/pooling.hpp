// Pooling layers on NCHW input: Module wrappers, with PyTorch's names and defaults, around
// max_pool2d / avg_pool2d (core/ops/conv_pool.hpp). No parameters; no ceil_mode, dilation or
// return_indices.
#pragma once
#include <optional>
#include <string>

#include "xgrad/core/ops/conv_pool.hpp"
#include "xgrad/layers/module.hpp"

namespace xgrad {

struct Pool2dOptions {
  Size2 kernel_size;
  std::optional<Size2> stride = std::nullopt;  // defaults to kernel_size, as in PyTorch
  Size2 padding = 0;                           // at most half the kernel on each axis
};

// The shared option checks and description; `name` is the class name for messages. The input is checked
// by the ops.
class Pool2d : public Module {
 public:
  std::string describe() const override;  // "MaxPool2d(kernel_size=2, stride=2, padding=0)"
  const Pool2dOptions& options() const { return options_; }

 protected:
  Pool2d(const char* name, const Pool2dOptions& options);
  Size2 stride() const { return options_.stride.value_or(options_.kernel_size); }

  const char* name_;
  Pool2dOptions options_;
};

// Input (N, C, H, W) -> (N, C, OH, OW), OH = (H + 2 padding - kernel) / stride + 1; padding counts as
// -infinity.
class MaxPool2d : public Pool2d {
 public:
  explicit MaxPool2d(const Pool2dOptions& options) : Pool2d("MaxPool2d", options) {}
  explicit MaxPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = 0)
      : MaxPool2d(Pool2dOptions{kernel_size, stride, padding}) {}
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<MaxPool2d>(options_)); }
};

// Same output size; padding counts as zero in the average (count_include_pad, PyTorch's default).
class AvgPool2d : public Pool2d {
 public:
  explicit AvgPool2d(const Pool2dOptions& options) : Pool2d("AvgPool2d", options) {}
  explicit AvgPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = 0)
      : AvgPool2d(Pool2dOptions{kernel_size, stride, padding}) {}
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<AvgPool2d>(options_)); }
};

}  // namespace xgrad
