// GroupNorm (PyTorch's nn.GroupNorm): per sample, each group of C / G consecutive channels is normalized
// by its own mean and biased variance, in training and eval alike (no running statistics), then weight and
// bias apply per channel. Options and parameters only: the op is group_norm in core/ops/group_norm.
#pragma once
#include <string>

#include "xgrad/core/ops/group_norm.hpp"
#include "xgrad/layers/module.hpp"

namespace xgrad {

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
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<GroupNorm>(options_)); }

  const GroupNormOptions& options() const { return options_; }
  Tensor weight() const { return weight_; }  // undefined without affine
  Tensor bias() const { return bias_; }

 private:
  GroupNormOptions options_;
  Tensor weight_, bias_;
};

}  // namespace xgrad
