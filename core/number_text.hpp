// The shortest decimal text that reads back as the same double (std::to_chars): settings and checkpoint
// fields written this way compare exactly as text.
#pragma once
#include <charconv>
#include <string>

namespace xgrad {

inline std::string shortest_text(double x) {
  char buffer[32];
  return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, x).ptr);
}

}  // namespace xgrad
