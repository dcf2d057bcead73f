// Placeholder trace: records nothing until summary() (layers/summary.cpp) activates it.
#include "layers/summary_trace.hpp"

namespace xgrad::detail {
void trace_module_call(const Module&, const Tensor&) {}
}  // namespace xgrad::detail
