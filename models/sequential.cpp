// Sequential: see sequential.hpp.
#include "xgrad/models/sequential.hpp"

#include <typeinfo>

#include "xgrad/core/error.hpp"
#include "xgrad/layers/activations.hpp"
#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/layers/summary_trace.hpp"

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

namespace {

// A BatchNorm1d/2d/3d at i directly followed by a ReLU. Exact types only: a subclass may override
// forward(), which the fused op would bypass.
BatchNorm* batch_norm_before_relu(const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& modules,
                                  std::size_t i) {
  if (i + 1 >= modules.size()) return nullptr;
  Module& m = *modules[i].second;
  const Module& next = *modules[i + 1].second;
  const std::type_info& type = typeid(m);
  const bool batch_norm = type == typeid(BatchNorm1d) || type == typeid(BatchNorm2d) || type == typeid(BatchNorm3d);
  return batch_norm && typeid(next) == typeid(ReLU) ? static_cast<BatchNorm*>(&m) : nullptr;
}

}  // namespace

Tensor Sequential::forward(const Tensor& x) {
  const auto& modules = children();
  Tensor y = x;
  for (std::size_t i = 0; i < modules.size(); ++i) {
    // BN -> ReLU, the canonical block's tail, runs as one op: the same values and gradients, one pass
    // over the activations fewer each way. summary() still sees both calls.
    if (BatchNorm* bn = batch_norm_before_relu(modules, i)) {
      y = bn->forward_relu(y);
      detail::trace_module_call(*bn, y);
      detail::trace_module_call(*modules[++i].second, y);
      continue;
    }
    y = (*modules[i].second)(y);
  }
  return y;
}

std::string Sequential::describe() const {
  return "Sequential(" + std::to_string(size()) + (size() == 1 ? " module)" : " modules)");
}

}  // namespace xgrad
