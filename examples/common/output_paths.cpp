// Output path checks: see output_paths.hpp.
#include "examples/common/output_paths.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "xgrad/core/error.hpp"
#include "xgrad/models/atomic_file.hpp"

namespace xgrad::examples {

namespace fs = std::filesystem;

bool same_file(const std::string& a, const std::string& b) {
  std::error_code error;
  if (fs::exists(a, error) && fs::exists(b, error)) return fs::equivalent(a, b, error);
  return fs::weakly_canonical(a, error) == fs::weakly_canonical(b, error);
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    std::error_code ignored;
    if (it->is_regular_file(ignored)) files.push_back(it->path().string());
  }
  return files;
}

namespace {

// The output's own checks: a file that may be replaced or created, in a writable directory.
void check_one(const OutputPath& out) {
  std::string target;
  try {
    target = resolve_output_path(out.path);
  } catch (const Error& e) {
    throw CLI::ValidationError(out.flag, e.what());
  }
  const fs::path parent = fs::path(target).has_parent_path() ? fs::path(target).parent_path() : fs::path(".");
  struct stat st {};
  if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw CLI::ValidationError(out.flag, "'" + out.path + "': the directory '" + parent.string() +
                                             "' does not exist (create it first)");
  }
  if (::access(parent.c_str(), W_OK | X_OK) != 0) {
    throw CLI::ValidationError(out.flag, "'" + out.path + "': the directory '" + parent.string() +
                                             "' is not writable");
  }
}

}  // namespace

void check_output_paths(const std::vector<OutputPath>& outputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const OutputPath& out = outputs[i];
    if (out.path.empty()) {
      if (out.given) throw CLI::ValidationError(out.flag, "the path is empty (an unset variable?)");
      continue;
    }
    check_one(out);
    for (const std::string& input : out.inputs) {
      if (same_file(out.path, input)) {
        throw CLI::ValidationError(out.flag, "'" + out.path + "' is the input file '" + input +
                                                 "'; writing there would destroy it");
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (!outputs[j].path.empty() && same_file(out.path, outputs[j].path)) {
        throw CLI::ValidationError(out.flag, "'" + out.path + "' is also the path of " + outputs[j].flag +
                                                 "; each output needs its own file");
      }
    }
  }
}

}  // namespace xgrad::examples
