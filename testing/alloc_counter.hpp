// The count of global operator new calls (and bytes asked for) since the program started, in a program
// that has testing/alloc_counter.cpp among its own sources: a replacement of operator new must be part of
// the executable itself, not of a library it links.
#pragma once
#include <cstdint>

namespace xgrad::testing {

std::int64_t new_calls();
std::int64_t new_bytes();

}  // namespace xgrad::testing
