// The one exception type xgrad throws for bad input, and the check that builds its message only when it
// fails. Messages name the op and the offending shapes or values: "matmul: shapes (2, 3) and (4, 5) ...".
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace xgrad {

class Error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

namespace detail {
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream message;
  (message << ... << parts);
  throw Error(message.str());
}
}  // namespace detail

}  // namespace xgrad

// XGRAD_CHECK(cond, "op: ", what, ...): throws xgrad::Error with the concatenated parts if cond is false.
#define XGRAD_CHECK(cond, ...)                  \
  do {                                          \
    if (!(cond)) ::xgrad::detail::fail(__VA_ARGS__); \
  } while (0)
