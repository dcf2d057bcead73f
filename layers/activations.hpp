// Activation layers: Module wrappers, with PyTorch's names and defaults, around the ops of
// core/ops/activation.hpp. They hold no parameters.
#pragma once
#include <string>

#include "xgrad/layers/module.hpp"

namespace xgrad {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "ReLU()"; }
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<ReLU>()); }
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(float negative_slope = 0.01f);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;  // "LeakyReLU(negative_slope=0.01)"
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<LeakyReLU>(negative_slope_)); }
  float negative_slope() const { return negative_slope_; }

 private:
  float negative_slope_;
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Sigmoid()"; }
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<Sigmoid>()); }
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Tanh()"; }
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<Tanh>()); }
};

// The exact GELU, x * Phi(x) (PyTorch's default approximate='none').
class GELU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "GELU()"; }
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<GELU>()); }
};

// Softmax along `dim` (negative counts from the end). PyTorch's implicit-dim default is deprecated, so
// the axis is required.
class Softmax : public Module {
 public:
  explicit Softmax(int dim);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;  // "Softmax(dim=1)"
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<Softmax>(dim_)); }
  int dim() const { return dim_; }

 private:
  int dim_;
};

}  // namespace xgrad
