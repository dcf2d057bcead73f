// Command-line parsing shared by the examples: CLI11, with every parse error (unknown flag, missing value,
// number out of range) answered by the message, the usage text and exit status 2.
#pragma once
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

namespace xgrad::examples {

// Returns -1 when parsing succeeded, else the exit status to return from main (0 after --help).
inline int parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << app.get_name() << ": " << e.what() << "\n\n" << app.help();
    return 2;
  }
  return -1;
}

// A real number in [min, max], checked on the text before CLI11 converts it: NaN and infinities are
// refused (CLI::Range lets NaN through, every comparison with it being false), and the range is printed as
// %g ("1e-08 to 10", not 309 digits).
inline CLI::Validator Number(double min, double max) {
  char range[64];
  std::snprintf(range, sizeof range, "%g to %g", min, max);
  const std::string text_range = range;
  return CLI::Validator(
      [min, max, text_range](std::string& text) -> std::string {
        errno = 0;
        char* end = nullptr;
        const double x = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size()) return text + " is not a number";
        if (!std::isfinite(x) || errno == ERANGE) return "Value " + text + " is not a finite number";
        if (x < min || x > max) return "Value " + text + " not in range " + text_range;
        return "";
      },
      "NUMBER in [" + text_range + "]");
}

// A whole number in [min, max] written with digits only: "-1" is refused instead of wrapping to 2^64 - 1
// in an unsigned flag.
inline CLI::Validator Whole(std::uint64_t min, std::uint64_t max) {
  const std::string text_range = std::to_string(min) + " to " + std::to_string(max);
  return CLI::Validator(
      [min, max, text_range](std::string& text) -> std::string {
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
          return "Value " + text + " is not a whole number >= 0";
        }
        errno = 0;
        const unsigned long long x = std::strtoull(text.c_str(), nullptr, 10);
        if (errno == ERANGE || x < min || x > max) {
          return "Value " + (text.size() > 24 ? text.substr(0, 20) + "..." : text) + " not in range " + text_range;
        }
        return "";
      },
      "INT in [" + text_range + "]");
}

}  // namespace xgrad::examples
