// GroupNorm (PyTorch's nn.GroupNorm) and its functional form: per sample, each group of C / G consecutive
// channels is normalized by its own mean and biased variance, in training and eval alike (no running
// statistics), then weight and bias apply per channel. The fused kernels live in core/kernels/group_norm.
#pragma once
#include <string>

#include "xgrad/layers/module.hpp"

namespace xgrad {

// x (N, C, *) -> same shape; weight and bias (C) or undefined. torch.nn.functional.group_norm.
Tensor group_norm(const Tensor& x, int num_groups, const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  float eps = 1e-5f);

namespace detail {
// The graph op shared with layer_norm: x viewed as (N, C, HW) with G groups; weight and bias hold C values
// (any shape). `op` names the caller in the graph. Shapes are checked by the callers.
Tensor group_norm_op(const Tensor& x, std::size_t N, std::size_t C, std::size_t HW, std::size_t G,
                     const Tensor& weight, const Tensor& bias, float eps, const char* op);
}  // namespace detail

struct GroupNormOptions {
  int num_groups = 0;
  int num_channels = 0;  // C, divisible by num_groups
  float eps = 1e-5f;
  bool affine = true;    // learnable weight (ones) and bias (zeros) of shape (C)

  GroupNormOptions() = default;
  GroupNormOptions(int groups, int channels) : num_groups(groups), num_channels(channels) {}
};

class GroupNorm : public Module {
 public:
  explicit GroupNorm(const GroupNormOptions& options);
  GroupNorm(int num_groups, int num_channels) : GroupNorm(GroupNormOptions(num_groups, num_channels)) {}

  Tensor forward(const Tensor& x) override;
  std::string describe() const override;  // "GroupNorm(2, 6, eps=1e-05, affine=True)"

  const GroupNormOptions& options() const { return options_; }
  Tensor weight() const { return weight_; }  // undefined without affine
  Tensor bias() const { return bias_; }

 private:
  GroupNormOptions options_;
  Tensor weight_, bias_;
};

}  // namespace xgrad
