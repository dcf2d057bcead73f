// Module's whole-tree operations: the in-memory state_dict()/load_state_dict() (the checks of the
// checkpoint loader, models/checkpoint_format.cpp, on tensors instead of JSON), named_modules(), apply(),
// and the default describe().
#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <typeinfo>

#include "xgrad/core/error.hpp"
#include "xgrad/layers/module.hpp"

namespace xgrad {

std::string Module::describe() const {
  // The dynamic class name without namespaces: "xgrad::Residual" -> "Residual()".
  const char* mangled = typeid(*this).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);
  const std::size_t template_start = std::min(name.find('<'), name.size());
  const std::size_t colon = name.rfind("::", template_start);
  if (colon != std::string::npos) name = name.substr(colon + 2);
  return name + "()";
}

StateDict Module::state_dict() const {
  StateDict out;
  for (const auto& list : {named_parameters(), named_buffers()}) {
    for (const auto& [name, t] : list) out.emplace_back(name, t.clone());
  }
  return out;
}

IncompatibleKeys Module::load_state_dict(const StateDict& state, bool strict) {
  const std::vector<NamedTensor> params = named_parameters(), buffers = named_buffers();
  std::map<std::string, Tensor> own(params.begin(), params.end());
  own.insert(buffers.begin(), buffers.end());
  IncompatibleKeys keys;
  std::set<std::string> seen;
  std::vector<std::pair<Tensor, Tensor>> copies;  // (destination, source)
  for (const auto& [name, src] : state) {
    XGRAD_CHECK(seen.insert(name).second, "load_state_dict: '", name, "' appears twice");
    const auto it = own.find(name);
    if (it == own.end()) {
      XGRAD_CHECK(!strict, "load_state_dict: '", name, "' is not one of the model's parameters or buffers "
                  "(pass strict = false to skip it)");
      keys.unexpected_keys.push_back(name);
      continue;
    }
    XGRAD_CHECK(src.defined(), "load_state_dict: '", name, "' is undefined");
    XGRAD_CHECK(src.shape() == it->second.shape(), "load_state_dict: '", name, "' has shape ",
                shape_str(src.shape()), ", the model's is ", shape_str(it->second.shape()));
    if (name.size() >= 11 && name.compare(name.size() - 11, 11, "running_var") == 0) {
      const float* v = src.data();
      for (std::size_t i = 0; i < src.numel(); ++i) {
        XGRAD_CHECK(v[i] >= 0.0f, "load_state_dict: '", name, "' value ", i, " is ", v[i],
                    "; a running variance is >= 0");
      }
    }
    copies.emplace_back(it->second, src);
  }
  for (const auto& list : {&params, &buffers}) {
    for (const auto& [name, t] : *list) {
      if (seen.count(name)) continue;
      XGRAD_CHECK(!strict, "load_state_dict: '", name, "' is missing; the model has it among its ",
                  list == &params ? "parameters" : "buffers", " (pass strict = false to keep its value)");
      keys.missing_keys.push_back(name);
    }
  }
  for (auto& [dst, src] : copies) {
    const Tensor from = src;  // const: reading does not count as a modification
    std::copy_n(from.data(), from.numel(), dst.data());
  }
  return keys;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  // Explicit stack, children pushed in reverse so they come out in registration order.
  std::vector<std::pair<std::string, Module*>> out, stack{{"", this}};
  while (!stack.empty()) {
    auto [name, m] = stack.back();
    stack.pop_back();
    out.emplace_back(name, m);
    const auto& kids = m->children();
    for (auto it = kids.rbegin(); it != kids.rend(); ++it) {
      stack.emplace_back(name.empty() ? it->first : name + "." + it->first, it->second.get());
    }
  }
  return out;
}

Module& Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [name, child] : children_) child->apply(fn);
  fn(*this);
  return *this;
}

}  // namespace xgrad
