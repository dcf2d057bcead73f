// Module registration, recursive listing and train/eval propagation: see module.hpp.
#include "xgrad/layers/module.hpp"

#include "xgrad/core/error.hpp"
#include "xgrad/layers/summary_trace.hpp"

namespace xgrad {

Tensor Module::operator()(const Tensor& x) {
  Tensor y = forward(x);
  detail::trace_module_call(*this, y);
  return y;
}

void Module::rethrow_naming_layer(std::exception_ptr e) const {
  try {
    std::rethrow_exception(e);
  } catch (const Error& error) {
    throw Error(describe() + ": " + error.what());
  }
}

void Module::check_new_name(const std::string& name) const {
  XGRAD_CHECK(!name.empty() && name.find('.') == std::string::npos, describe(), ": the name '", name,
              "' is empty or contains a dot");
  auto taken = [&](const auto& list) {
    for (const auto& entry : list) {
      if (entry.first == name) return true;
    }
    return false;
  };
  XGRAD_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), describe(), ": the name '",
              name, "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  check_new_name(name);
  XGRAD_CHECK(t.defined() && t.is_leaf(), describe(), ": parameter '", name, "' must be a defined leaf tensor");
  t.set_requires_grad(true);
  parameters_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name);
  XGRAD_CHECK(t.defined(), describe(), ": buffer '", name, "' is undefined");
  buffers_.emplace_back(name, t);
  return t;
}

void Module::replace_tensor(const std::string& name, Tensor t) {
  for (auto* list : {&parameters_, &buffers_}) {
    for (auto& entry : *list) {
      if (entry.first != name) continue;
      if (list == &parameters_) t.set_requires_grad(true);
      entry.second = t;
      return;
    }
  }
  detail::fail(describe(), ": no parameter or buffer named '", name, "'");
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_new_name(name);
  XGRAD_CHECK(m != nullptr, describe(), ": sub-module '", name, "' is null");
  m->train(training_);
  children_.emplace_back(name, std::move(m));
}

std::shared_ptr<Module> Module::replace_module(const std::string& name, std::shared_ptr<Module> m) {
  XGRAD_CHECK(m != nullptr, describe(), ": replacement for sub-module '", name, "' is null");
  for (auto& [child_name, child] : children_) {
    if (child_name != name) continue;
    m->train(training_);
    std::swap(child, m);
    return m;
  }
  detail::fail(describe(), ": no sub-module named '", name, "'");
}

void Module::collect(const std::string& prefix, bool buffers, std::vector<NamedTensor>& out) const {
  for (const auto& [name, t] : buffers ? buffers_ : parameters_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", buffers, out);
}

std::vector<NamedTensor> Module::named_parameters() const {
  std::vector<NamedTensor> out;
  collect("", false, out);
  return out;
}

std::vector<NamedTensor> Module::named_buffers() const {
  std::vector<NamedTensor> out;
  collect("", true, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

std::size_t Module::parameter_count() const {
  std::size_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (auto& [name, t] : named_parameters()) t.zero_grad();
}

}  // namespace xgrad
