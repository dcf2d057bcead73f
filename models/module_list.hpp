// ModuleList: sub-modules held in a list (torch.nn.ModuleList). It registers each one under its position,
// "0", "1", ..., so parameters(), named_parameters(), state_dict(), checkpoints, train()/eval() and clone()
// see them ("layers.0.weight" inside a module that registers the list as "layers"). Unlike Sequential it
// has no forward: the module holding it decides how to call its entries (a loop, a skip, two inputs).
#pragma once
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/layers/module.hpp"

namespace xgrad {

class ModuleList : public Module {
 public:
  ModuleList() = default;
  // ModuleList{std::make_shared<Dense>(4, 8, gen), std::make_shared<ReLU>()}: entries "0", "1".
  ModuleList(std::initializer_list<std::shared_ptr<Module>> modules);

  // Appends `m` under the name of its position; returns it with its type, like Sequential::add.
  // push_back is the C++ name, append PyTorch's.
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> m) {
    return register_module(std::to_string(size()), std::move(m));
  }
  template <class M>
  std::shared_ptr<M> append(std::shared_ptr<M> m) {
    return push_back(std::move(m));
  }
  // Appends every module of `modules`, in order (PyTorch's extend).
  void extend(const std::vector<std::shared_ptr<Module>>& modules);

  std::size_t size() const { return children().size(); }
  bool empty() const { return children().empty(); }
  // The i-th module; throws if i >= size().
  const std::shared_ptr<Module>& operator[](std::size_t i) const;
  // The i-th module as an M; throws if it is not one.
  template <class M>
  std::shared_ptr<M> at(std::size_t i) const {
    auto m = std::dynamic_pointer_cast<M>((*this)[i]);
    if (!m) throw_wrong_type(i);
    return m;
  }

  // for (const std::shared_ptr<Module>& m : list) visits the entries in order.
  class iterator {
   public:
    using Base = std::vector<std::pair<std::string, std::shared_ptr<Module>>>::const_iterator;
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::shared_ptr<Module>;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::shared_ptr<Module>*;
    using reference = const std::shared_ptr<Module>&;
    iterator() = default;
    explicit iterator(Base it) : it_(it) {}
    reference operator*() const { return it_->second; }
    pointer operator->() const { return &it_->second; }
    iterator& operator++() {
      ++it_;
      return *this;
    }
    iterator operator++(int) { return iterator(it_++); }
    bool operator==(const iterator&) const = default;

   private:
    Base it_;
  };
  iterator begin() const { return iterator(children().begin()); }
  iterator end() const { return iterator(children().end()); }

  // A list is not called: throws an xgrad::Error saying so (PyTorch's ModuleList has no forward either).
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;  // "ModuleList(3 modules)"
  std::shared_ptr<Module> clone() const override;

 private:
  [[noreturn]] void throw_wrong_type(std::size_t i) const;
};

}  // namespace xgrad
