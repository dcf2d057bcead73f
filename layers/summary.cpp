// summary(): see summary.hpp. Names come from walking the module tree; rows from detail::ModuleTrace.
#include "xgrad/layers/summary.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/layers/summary_trace.hpp"

namespace xgrad {
namespace {

// Every module under `m` in pre-order with its dotted name (the root's is ""). A module registered twice
// keeps its first name.
void walk(const Module& m, const std::string& name, std::vector<std::pair<const Module*, std::string>>& out) {
  out.emplace_back(&m, name);
  for (const auto& [child_name, child] : m.children()) {
    walk(*child, name.empty() ? child_name : name + "." + child_name, out);
  }
}

// Puts every module in eval mode for its lifetime, then gives each back its own mode. Restoring in
// pre-order works because train(on) propagates down and each child is reset after its parent.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(Module& root) {
    collect(root);
    root.eval();
  }
  ~EvalModeGuard() {
    for (auto& [m, training] : modes_) m->train(training);
  }

 private:
  void collect(Module& m) {
    modes_.emplace_back(&m, m.is_training());
    for (const auto& [name, child] : m.children()) collect(*child);
  }
  std::vector<std::pair<Module*, bool>> modes_;
};

// Parameters a module holds itself, not through its children.
std::size_t own_parameter_count(const Module& m) {
  std::size_t n = m.parameter_count();
  for (const auto& [name, child] : m.children()) n -= std::min(n, child->parameter_count());
  return n;
}

// 1234567 -> "1,234,567", as Keras prints counts.
std::string with_commas(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::string summary(Module& model, const Shape& input_shape) {
  std::vector<std::pair<const Module*, std::string>> modules;
  walk(model, "", modules);
  std::map<const Module*, std::string> names;  // ordered map: lookups only, never iterated for output
  for (const auto& [m, name] : modules) names.emplace(m, name.empty() ? "(model)" : name);

  std::vector<detail::TraceRecord> calls;
  {
    EvalModeGuard eval_mode(model);
    NoGradGuard no_grad;
    detail::ModuleTrace trace(calls);
    model(zeros(input_shape));
  }

  // Rows: name, description, output shape, parameter count.
  std::vector<std::vector<std::string>> rows = {{"Layer", "Module", "Output shape", "Param #"}};
  for (const auto& call : calls) {
    const std::size_t own = own_parameter_count(*call.module);
    if (!call.module->children().empty() && own == 0) continue;
    auto it = names.find(call.module);
    rows.push_back({it == names.end() ? "(unregistered)" : it->second, call.module->describe(),
                    shape_str(call.output_shape), with_commas(own)});
  }

  std::size_t total = 0, trainable = 0, buffer_values = 0;
  for (const auto& [name, t] : model.named_parameters()) {
    total += t.numel();
    if (t.requires_grad()) trainable += t.numel();
  }
  for (const auto& [name, t] : model.named_buffers()) buffer_values += t.numel();

  std::vector<std::size_t> width(4, 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < 4; ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::ostringstream out;
  const std::size_t line_width = width[0] + width[1] + width[2] + width[3] + 6;
  auto print_row = [&](const std::vector<std::string>& row) {
    for (std::size_t c = 0; c < 3; ++c) out << row[c] << std::string(width[c] - row[c].size() + 2, ' ');
    out << std::string(width[3] - row[3].size(), ' ') << row[3] << '\n';  // counts right-aligned
  };
  print_row(rows[0]);
  out << std::string(line_width, '=') << '\n';
  for (std::size_t r = 1; r < rows.size(); ++r) print_row(rows[r]);
  out << std::string(line_width, '=') << '\n';
  out << "Input shape: " << shape_str(input_shape) << '\n';
  out << "Total params: " << with_commas(total) << '\n';
  out << "Trainable params: " << with_commas(trainable) << '\n';
  out << "Non-trainable params: " << with_commas(total - trainable) << '\n';
  out << "Buffer values (running statistics etc.): " << with_commas(buffer_values) << '\n';
  return out.str();
}

}  // namespace xgrad
