// The hook summary() uses: while a trace is active, every Module call appends its description,
// output shape and own parameter count. Internal to layers/.
#pragma once
#include "core/tensor.hpp"

namespace xgrad {
class Module;
namespace detail {
void trace_module_call(const Module& m, const Tensor& output);
}  // namespace detail
}  // namespace xgrad
