// Running the built example programs from tests, as a user runs them: a temporary folder, the command with
// its output captured, JSON helpers, and generated data sets (make_synthetic_data). Shared by
// test_examples.cpp and the reliability tests; not a test itself.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace example_runner {

namespace fs = std::filesystem;
using nlohmann::json;

// A fresh folder under the system's temporary folder, removed with everything in it at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    static int count = 0;
    path = fs::temp_directory_path() /
           ("xgrad_test_examples_" + std::to_string(::getpid()) + "_" + std::to_string(count++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline json read_json(const std::string& path) {
  INFO("reading " << path);
  return json::parse(read_text(path));
}

struct Run {
  int status = -1;
  std::string out, err;
};

// Runs the built example `program` with `args` (already quoted as needed), capturing its output in `dir`;
// `env` prefixes the command (e.g. "PATH=/nonexistent").
inline Run run(const TempDir& dir, const std::string& program, const std::string& args,
               const std::string& env = "") {
  const std::string out = dir / (program + ".out"), err = dir / (program + ".err");
  const std::string command = env + " '" + std::string(XGRAD_BUILD_DIR) + "/" + program + "' " + args + " >'" +
                              out + "' 2>'" + err + "'";
  // OpenMP threads that spin while they wait make a 2-thread run many times slower on a busy machine (CI);
  // waiting passively changes the timing only, never a result. A value set by the caller is kept.
  ::setenv("OMP_WAIT_POLICY", "passive", 0);
  const int raw = std::system(command.c_str());
  Run r;
  r.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

// run() that must succeed: exit status 0, its standard error shown when not.
inline Run run_ok(const TempDir& dir, const std::string& program, const std::string& args) {
  Run r = run(dir, program, args);
  INFO(program << " " << args << "\n" << r.err);
  REQUIRE(r.status == 0);
  return r;
}

// Writes a generated data set (make_synthetic_data) into dir/format and returns its path.
inline std::string make_data(const TempDir& dir, const std::string& format, int train, int test) {
  const std::string path = dir / format;
  run_ok(dir, "make_synthetic_data",
         "--format " + format + " --out '" + path + "' --train " + std::to_string(train) + " --test " +
             std::to_string(test) + " --seed 7");
  return path;
}

// A report without the fields that measure time and memory, which differ between identical runs.
inline json without_timing(json report) {
  report.erase("peak_rss_mb");
  if (report.contains("time_to_target")) report["time_to_target"].erase("seconds");
  for (auto& epoch : report["epochs"]) {
    epoch.erase("images_per_second");
    epoch.erase("seconds");
  }
  return report;
}

}  // namespace example_runner
