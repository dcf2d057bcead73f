// Sequential: runs its sub-modules in order, each output feeding the next (torch.nn.Sequential).
// Unnamed modules are named by their position, "0", "1", ..., so parameters read "0.weight", "3.bias"
// like PyTorch's; named ones keep their names. Not a graph container: one input, one output. A plain
// container: it runs what it holds as it is (fusions are the model's choice, e.g. conv_bn_act's).
#pragma once
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/layers/module.hpp"

namespace xgrad {

class Sequential : public Module {
 public:
  Sequential() = default;
  // Sequential{std::make_shared<Dense>(4, 8, gen), std::make_shared<ReLU>()}: children "0", "1".
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  // Named children, in order (like PyTorch's Sequential(OrderedDict(...))).
  explicit Sequential(const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_modules);

  // Appends `m` under the name of its position (or `name`); returns it with its type, so that
  // `auto conv = seq.add(std::make_shared<Conv2d>(...))` keeps a typed handle.
  template <class M>
  std::shared_ptr<M> add(std::shared_ptr<M> m) {
    return register_module(std::to_string(size()), std::move(m));
  }
  template <class M>
  std::shared_ptr<M> add(const std::string& name, std::shared_ptr<M> m) {
    return register_module(name, std::move(m));
  }

  std::size_t size() const { return children().size(); }
  // The i-th module, whatever its name; throws if i >= size().
  const std::shared_ptr<Module>& operator[](std::size_t i) const;
  // The i-th module as an M; throws if it is not one.
  template <class M>
  std::shared_ptr<M> at(std::size_t i) const {
    auto m = std::dynamic_pointer_cast<M>((*this)[i]);
    if (!m) throw_wrong_type(i);
    return m;
  }

  // Calls each module through operator() (so summary() sees it); an empty Sequential is the identity.
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;  // "Sequential(3 modules)"
  // Clones every module, keeping names and order.
  std::shared_ptr<Module> clone() const override;

 private:
  [[noreturn]] void throw_wrong_type(std::size_t i) const;
};

}  // namespace xgrad
