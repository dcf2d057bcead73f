// Module: the base of every layer and model. Parameters, buffers and sub-modules are registered by name,
// in insertion order, and listed recursively with dotted names ("features.1.running_mean"); optimizers
// and checkpoints key everything by those names. train()/eval() propagate to every sub-module.
// state_dict()/load_state_dict(), named_modules() and apply() are in module_state.cpp.
#pragma once
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/core/named_tensor.hpp"
#include "xgrad/core/tensor.hpp"

namespace xgrad {

// PyTorch's state_dict: every parameter, then every buffer, by dotted name ("features.0.weight", the
// names checkpoints use), in registration order.
using StateDict = std::vector<NamedTensor>;

// Like PyTorch's load_state_dict result: names that did not match (strict = false only).
struct IncompatibleKeys {
  std::vector<std::string> missing_keys;     // the model's, absent from what was loaded
  std::vector<std::string> unexpected_keys;  // what was loaded, absent from the model
};

class Module {
 public:
  virtual ~Module() = default;

  virtual Tensor forward(const Tensor& x) = 0;
  // Calls forward(); also what summary() hooks into.
  Tensor operator()(const Tensor& x);

  // One line naming the layer and its options, like PyTorch's repr: "Conv2d(1, 16, kernel_size=3)". The
  // default is the class name and "()", as PyTorch's repr of a module without extra_repr: "MyBlock()".
  virtual std::string describe() const;

  std::vector<Tensor> parameters() const;
  std::vector<NamedTensor> named_parameters() const;
  std::vector<NamedTensor> named_buffers() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  std::size_t parameter_count() const;
  // Swaps the registered sub-module `name` for `m`, keeping its name and place (so dotted names do not
  // change), and sets m's train/eval mode to this module's; returns the old one. Like assigning
  // model._modules[name] in PyTorch: convert_sync_batchnorm uses it. Throws if there is no such child.
  std::shared_ptr<Module> replace_module(const std::string& name, std::shared_ptr<Module> m);

  // Copies (clone()) of every parameter and buffer: later training does not change them.
  StateDict state_dict() const;
  // Copies `state` into the parameters and buffers of the same names. strict (the default, as in PyTorch):
  // the names must match exactly; otherwise unmatched names are skipped and reported. Shapes must always
  // match, and a running variance must be >= 0, as the checkpoint loader checks. Every check runs before
  // anything is copied: on an xgrad::Error (naming the key) the module is unchanged.
  IncompatibleKeys load_state_dict(const StateDict& state, bool strict = true);
  // This module (name "") and every sub-module below it, depth first in registration order, with dotted
  // names ("features", "features.0"), as PyTorch's named_modules(). The pointers live as long as the tree.
  std::vector<std::pair<std::string, Module*>> named_modules();
  // Calls fn on every sub-module, then on this module (children first, as PyTorch's apply); returns *this.
  // E.g. model.apply([](Module& m) { if (auto* c = dynamic_cast<Conv2d*>(&m)) init(c->weight()); }).
  Module& apply(const std::function<void(Module&)>& fn);

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
