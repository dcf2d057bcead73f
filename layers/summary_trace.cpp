// Module-call trace for summary(): see summary_trace.hpp. One pointer per thread; a call costs a branch
// when no trace is active.
#include "xgrad/layers/summary_trace.hpp"

namespace xgrad::detail {
namespace {
thread_local std::vector<TraceRecord>* active_sink = nullptr;
}  // namespace

ModuleTrace::ModuleTrace(std::vector<TraceRecord>& sink) : previous_(active_sink) { active_sink = &sink; }

ModuleTrace::~ModuleTrace() { active_sink = previous_; }

void trace_module_call(const Module& m, const Tensor& output) {
  if (active_sink == nullptr) return;
  active_sink->push_back({&m, output.defined() ? output.shape() : Shape{}});
}

}  // namespace xgrad::detail
