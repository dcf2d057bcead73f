// Module: the base of every layer and model. Parameters, buffers and sub-modules are registered by name,
// in insertion order, and listed recursively with dotted names ("features.1.running_mean"); optimizers
// and checkpoints key everything by those names. train()/eval() propagate to every sub-module.
// state_dict()/load_state_dict(), named_modules(), apply() and clone() are in module_state.cpp.
//
// forward: the library calls forward(x) with one tensor (operator(), Sequential, summary(), fit(),
// evaluate()). A module whose forward takes several tensors, PyTorch's forward(self, x, y), declares its
// own `Tensor forward(const Tensor& x, const Tensor& y)` (any arguments, any result) and is called as
// `model.forward(x, y)`; it keeps its parameters, state_dict, checkpoints, clone and train/eval. Only the
// one-tensor callers cannot use it: for such a module they throw an xgrad::Error naming it.
//
// clone(): PyTorch's copy.deepcopy(module). Every library module and Sequential/ModuleList implement it.
// A user module overrides it by building a fresh instance and handing it to clone_into(), which copies
// the values (and the train/eval mode of every sub-module) into it:
//   std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<Block>(gen_seed)); }
// (sub-modules given to the constructor are cloned first: `std::make_shared<Wrap>(inner_->clone())`).
// A module that does not override it throws an xgrad::Error naming its class.
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

class Module;
namespace detail {
[[noreturn]] void clone_type_error(const Module& m);  // clone_module's: clone() returned another class
}  // namespace detail

class Module {
 public:
  virtual ~Module() = default;

  // The one-tensor forward (see above). The default throws an xgrad::Error naming the module: it is what a
  // module whose forward takes other arguments leaves alone.
  virtual Tensor forward(const Tensor& x);
  // Calls forward(x); also what summary() hooks into.
  Tensor operator()(const Tensor& x);

  // A deep copy: parameters and buffers in new storage with equal values (the parameters' requires_grad
  // too; no grads, no graph), the same options, and each sub-module's train/eval mode. Training the copy
  // leaves this module unchanged. The default throws an xgrad::Error naming the class (see above).
  virtual std::shared_ptr<Module> clone() const;

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
  // For clone(): copies this module's parameter and buffer values (by name, in new storage already
  // allocated by `fresh`'s constructor), its parameters' requires_grad and every sub-module's train/eval
  // mode into `fresh`, a newly built module of the same class and structure, and returns it. Throws an
  // xgrad::Error if `fresh` is of another class or its names or shapes differ.
  template <class M>
  std::shared_ptr<M> clone_into(std::shared_ptr<M> fresh) const {
    copy_state_to(*fresh);
    return fresh;
  }
  // Replaces a registered parameter or buffer's tensor (same name), e.g. when folding BN into a conv.
  void replace_tensor(const std::string& name, Tensor t);

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void check_new_name(const std::string& name) const;
  [[noreturn]] void rethrow_naming_layer(std::exception_ptr e) const;
  void collect(const std::string& prefix, bool buffers, std::vector<NamedTensor>& out) const;
  void copy_state_to(Module& fresh) const;

  bool training_ = true;
  std::vector<NamedTensor> parameters_;
  std::vector<NamedTensor> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// clone() with the type kept: `std::shared_ptr<Sequential> copy = clone_module(*net)`.
template <class M>
std::shared_ptr<M> clone_module(const M& m) {
  std::shared_ptr<M> copy = std::dynamic_pointer_cast<M>(m.clone());
  if (!copy) detail::clone_type_error(m);
  return copy;
}

}  // namespace xgrad
