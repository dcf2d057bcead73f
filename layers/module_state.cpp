// Module's whole-tree operations: the in-memory state_dict()/load_state_dict() (the checks of the
// checkpoint loader, models/checkpoint_format.cpp, on tensors instead of JSON), named_modules(), apply(),
// the default describe(), and clone()'s copying of state.
#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <typeinfo>

#include "xgrad/core/error.hpp"
#include "xgrad/layers/module.hpp"

namespace xgrad {

namespace {

// The dynamic class name without namespaces: "xgrad::Residual" -> "Residual".
std::string class_name(const Module& m) {
  const char* mangled = typeid(m).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);
  const std::size_t template_start = std::min(name.find('<'), name.size());
  const std::size_t colon = name.rfind("::", template_start);
  if (colon != std::string::npos) name = name.substr(colon + 2);
  return name;
}

// The train/eval mode of every module of `from`'s tree onto the same place in `to`'s.
void copy_modes(const Module& from, Module& to, const std::string& at) {
  XGRAD_CHECK(from.children().size() == to.children().size(), "clone: the copy of '", at.empty() ? "(top)" : at,
              "' has ", to.children().size(), " sub-modules, the original ", from.children().size());
  to.train(from.is_training());  // sets the children too; each is then set to its own below
  for (std::size_t i = 0; i < from.children().size(); ++i) {
    const auto& [name, child] = from.children()[i];
    XGRAD_CHECK(to.children()[i].first == name, "clone: the copy's sub-module '", to.children()[i].first,
                "' stands where the original has '", name, "'");
    copy_modes(*child, *to.children()[i].second, at.empty() ? name : at + "." + name);
  }
}

}  // namespace

namespace detail {
void clone_type_error(const Module& m) {
  fail(m.describe(), ": clone() returned a module of another class than ", class_name(m));
}
}  // namespace detail

std::string Module::describe() const { return class_name(*this) + "()"; }

Tensor Module::forward(const Tensor&) {
  detail::fail(class_name(*this), ": forward(x) with one tensor is not defined (a module whose forward takes ",
               "other arguments is called as model.forward(...); operator(), Sequential, summary and fit need ",
               "forward(const Tensor&))");
}

std::shared_ptr<Module> Module::clone() const {
  detail::fail(class_name(*this), ": clone() is not defined for this class; a user module overrides it: ",
               "std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<",
               class_name(*this), ">(...)); } (see layers/module.hpp)");
}

void Module::copy_state_to(Module& fresh) const {
  XGRAD_CHECK(typeid(fresh) == typeid(*this), describe(), ": clone() built a ", class_name(fresh), ", not a ",
              class_name(*this), " (a class derived from a library module overrides clone())");
  // Names and shapes first, so a mismatch is reported before anything is copied.
  const std::vector<NamedTensor> params = named_parameters(), buffers = named_buffers();
  const std::vector<NamedTensor> to_params = fresh.named_parameters(), to_buffers = fresh.named_buffers();
  for (const auto& [from, to] : {std::pair{&params, &to_params}, std::pair{&buffers, &to_buffers}}) {
    XGRAD_CHECK(from->size() == to->size(), describe(), ": clone(): the copy has ", to->size(), " ",
                from == &params ? "parameters" : "buffers", ", the original ", from->size());
    for (std::size_t i = 0; i < from->size(); ++i) {
      const auto& [name, t] = (*from)[i];
      const auto& [to_name, u] = (*to)[i];
      XGRAD_CHECK(name == to_name && t.shape() == u.shape(), describe(), ": clone(): the copy's '", to_name, "' ",
                  shape_str(u.shape()), " stands where the original has '", name, "' ", shape_str(t.shape()));
    }
  }
  for (const auto& [from, to] : {std::pair{&params, &to_params}, std::pair{&buffers, &to_buffers}}) {
    for (std::size_t i = 0; i < from->size(); ++i) {
      const Tensor src = (*from)[i].second;  // const: reading does not count as a modification
      Tensor dst = (*to)[i].second;
      std::copy_n(src.data(), src.numel(), dst.data());
      if (from == &params) dst.set_requires_grad(src.requires_grad());
    }
  }
  copy_modes(*this, fresh, "");
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
