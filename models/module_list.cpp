// ModuleList: see module_list.hpp.
#include "xgrad/models/module_list.hpp"

#include "xgrad/core/error.hpp"

namespace xgrad {

ModuleList::ModuleList(std::initializer_list<std::shared_ptr<Module>> modules) {
  for (const auto& m : modules) push_back(m);
}

void ModuleList::extend(const std::vector<std::shared_ptr<Module>>& modules) {
  for (const auto& m : modules) push_back(m);
}

const std::shared_ptr<Module>& ModuleList::operator[](std::size_t i) const {
  XGRAD_CHECK(i < size(), "ModuleList: index ", i, " is out of range for ", size(), " modules");
  return children()[i].second;
}

void ModuleList::throw_wrong_type(std::size_t i) const {
  detail::fail("ModuleList: module ", i, " is ", children()[i].second->describe(), ", not of the requested type");
}

Tensor ModuleList::forward(const Tensor&) {
  detail::fail(describe(), ": a ModuleList has no forward; the module holding it calls its entries ",
               "(for (auto& m : list) x = (*m)(x)), or use Sequential");
}

std::string ModuleList::describe() const {
  return "ModuleList(" + std::to_string(size()) + (size() == 1 ? " module)" : " modules)");
}

std::shared_ptr<Module> ModuleList::clone() const {
  auto copy = std::make_shared<ModuleList>();
  for (const auto& m : *this) copy->push_back(m->clone());
  return clone_into(copy);
}

}  // namespace xgrad
