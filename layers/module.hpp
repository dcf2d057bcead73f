// Module: the base of every layer and model. Parameters, buffers and sub-modules are registered by name,
// in insertion order, and listed recursively with dotted names ("features.1.running_mean"); optimizers
// and checkpoints key everything by those names. train()/eval() propagate to every sub-module.
#pragma once
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

using NamedTensor = std::pair<std::string, Tensor>;

class Module {
 public:
  virtual ~Module() = default;

  virtual Tensor forward(const Tensor& x) = 0;
  // Calls forward(); also what summary() hooks into.
  Tensor operator()(const Tensor& x);

  // One line naming the layer and its options, like PyTorch's repr: "Conv2d(1, 16, kernel_size=3)".
  virtual std::string describe() const = 0;

  std::vector<Tensor> parameters() const;
  std::vector<NamedTensor> named_parameters() const;
  std::vector<NamedTensor> named_buffers() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  std::size_t parameter_count() const;
  // Swaps the registered sub-module `name` for `m`, keeping its name and place (so dotted names do not
  // change), and sets m's train/eval mode to this module's; returns the old one. Like assigning
  // model._modules[name] in PyTorch: convert_sync_batchnorm uses it. Throws if there is no such child.
  std::shared_ptr<Module> replace_module(const std::string& name, std::shared_ptr<Module> m);

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();

 protected:
  // Registers and returns t (sharing storage): parameters get requires_grad, buffers do not.
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }
  // Runs `op`, a call of a functional op on this layer's behalf: the op alone checks its arguments, and an
  // xgrad::Error it throws comes back with describe() in front, so the message names the layer:
  // "Conv2d(3, 16, kernel_size=3, stride=1): conv2d: the input (2, 1, 28, 28) has 1 channels ...".
  template <class F>
  Tensor call_op(F&& op) const {
    try {
      return op();
    } catch (...) {
      rethrow_naming_layer(std::current_exception());
    }
  }
  // Replaces a registered parameter or buffer's tensor (same name), e.g. when folding BN into a conv.
  void replace_tensor(const std::string& name, Tensor t);

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void check_new_name(const std::string& name) const;
  [[noreturn]] void rethrow_naming_layer(std::exception_ptr e) const;
  void collect(const std::string& prefix, bool buffers, std::vector<NamedTensor>& out) const;

  bool training_ = true;
  std::vector<NamedTensor> parameters_;
  std::vector<NamedTensor> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace xgrad
