// The hook summary() uses: while a ModuleTrace is alive on this thread, every Module call (Module::
// operator()) appends the module and its output shape to the trace's sink, in the order calls return
// (so a container comes after its children). Internal to layers/; nothing is recorded otherwise.
#pragma once
#include <vector>

#include "xgrad/core/tensor.hpp"

namespace xgrad {
class Module;
namespace detail {

struct TraceRecord {
  const Module* module;
  Shape output_shape;  // empty for an undefined output
};

class ModuleTrace {
 public:
  explicit ModuleTrace(std::vector<TraceRecord>& sink);
  ~ModuleTrace();  // restores the trace that was active before (traces nest)
  ModuleTrace(const ModuleTrace&) = delete;
  ModuleTrace& operator=(const ModuleTrace&) = delete;

 private:
  std::vector<TraceRecord>* previous_;
};

void trace_module_call(const Module& m, const Tensor& output);

}  // namespace detail
}  // namespace xgrad
