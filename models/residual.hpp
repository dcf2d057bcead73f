// Residual: y = x + body(x), the skip connection of ResNets. The body is a Sequential whose output has
// its input's shape (a convolution block with padding "same", say); whatever should follow the addition
// (a ReLU) is the next module's business. Not a general graph container: one input, one output.
#pragma once
#include <memory>
#include <string>

#include "xgrad/models/sequential.hpp"

namespace xgrad {

class Residual : public Module {
 public:
  explicit Residual(std::shared_ptr<Sequential> body);

  // x: any shape the body maps to itself. Throws naming both shapes if the body changes it.
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;  // "Residual(Sequential(2 modules))"
  std::shared_ptr<Module> clone() const override;

  const std::shared_ptr<Sequential>& body() const { return body_; }

 private:
  std::shared_ptr<Sequential> body_;
};

}  // namespace xgrad
