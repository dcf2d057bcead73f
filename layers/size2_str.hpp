// How layer descriptions print a Size2: "3" when both sides agree, "(3, 5)" otherwise (PyTorch prints
// tuples always; a single number reads better in summaries). Internal to layers/.
#pragma once
#include <sstream>
#include <string>

#include "xgrad/core/ops/conv_pool.hpp"

namespace xgrad::detail {

inline std::string size2_str(Size2 s) {
  std::ostringstream out;  // not operator+ on strings: GCC 12 raises a false -Wrestrict on that
  if (s.h == s.w) {
    out << s.h;
  } else {
    out << '(' << s.h << ", " << s.w << ')';
  }
  return out.str();
}

}  // namespace xgrad::detail
