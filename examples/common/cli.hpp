// Command-line parsing shared by the examples: CLI11, with every parse error (unknown flag, missing value,
// number out of range) answered by the message, the usage text and exit status 2.
#pragma once
#include <CLI/CLI.hpp>
#include <iostream>

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

}  // namespace xgrad::examples
