// Sequential: see sequential.hpp.
#include "xgrad/models/sequential.hpp"

#include "xgrad/core/error.hpp"

namespace xgrad {

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
  for (const auto& m : modules) add(m);
}

Sequential::Sequential(const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_modules) {
  for (const auto& [name, m] : named_modules) add(name, m);
}

const std::shared_ptr<Module>& Sequential::operator[](std::size_t i) const {
  XGRAD_CHECK(i < size(), "Sequential: index ", i, " is out of range for ", size(), " modules");
  return children()[i].second;
}

void Sequential::throw_wrong_type(std::size_t i) const {
  detail::fail("Sequential: module ", i, " ('", children()[i].first, "') is ", children()[i].second->describe(),
               ", not of the requested type");
}

// Each module through operator(), which is what summary() hooks into; nothing is recognised or fused
// here: a model that wants BatchNorm -> ReLU fused says so (BatchNormOptions::fused_relu).
Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& [name, m] : children()) y = (*m)(y);
  return y;
}

std::shared_ptr<Module> Sequential::clone() const {
  auto copy = std::make_shared<Sequential>();
  for (const auto& [name, m] : children()) copy->add(name, m->clone());
  return clone_into(copy);
}

std::string Sequential::describe() const {
  return "Sequential(" + std::to_string(size()) + (size() == 1 ? " module)" : " modules)");
}

}  // namespace xgrad
