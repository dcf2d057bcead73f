// Identity: returns its input (torch.nn.Identity). A placeholder that keeps positions and names stable,
// e.g. where fuse_conv_bn removed a BatchNorm. No parameters.
#pragma once
#include <string>

#include "xgrad/layers/module.hpp"

namespace xgrad {

class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string describe() const override { return "Identity()"; }
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<Identity>()); }
};

}  // namespace xgrad
