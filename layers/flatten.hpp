// Flatten layer: merges axes start_dim..end_dim into one (torch.nn.Flatten, whose start_dim defaults to 1
// so the batch axis is kept). A view: the output shares storage with the input. No parameters.
#pragma once
#include <string>

#include "xgrad/layers/module.hpp"

namespace xgrad {

class Flatten : public Module {
 public:
  explicit Flatten(int start_dim = 1, int end_dim = -1) : start_dim_(start_dim), end_dim_(end_dim) {}

  // (N, C, H, W) -> (N, C * H * W) with the defaults.
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;  // "Flatten(start_dim=1, end_dim=-1)"
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<Flatten>(start_dim_, end_dim_)); }

  int start_dim() const { return start_dim_; }
  int end_dim() const { return end_dim_; }

 private:
  int start_dim_, end_dim_;
};

}  // namespace xgrad
