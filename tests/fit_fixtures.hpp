// What the fit and callback tests share: two small data sets (a line to regress, two blobs to classify), a
// temporary folder, and reading a file back.
#pragma once
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "xgrad/xgrad.hpp"

namespace xgrad::testing::fit_fixtures {

// y = 2 x0 - x1 + 0.5 on 64 points of [-1, 1)^2; targets (64, 1).
inline TensorDataset line(std::uint64_t seed = 1) {
  Generator gen(seed);
  Tensor x = uniform({64, 2}, -1, 1, gen);
  Tensor y = empty({64, 1});
  for (std::size_t n = 0; n < 64; ++n) y.data()[n] = 2 * x.data()[2 * n] - x.data()[2 * n + 1] + 0.5f;
  return TensorDataset(x, y);
}

// Two separable blobs around (-2, -2) (class 0) and (2, 2) (class 1).
inline TensorDataset blobs() {
  Generator gen(2);
  Tensor x = randn({40, 2}, gen);
  Labels labels(40);
  for (std::size_t n = 0; n < 40; ++n) {
    labels[n] = static_cast<std::int32_t>(n % 2);
    x.data()[2 * n] += labels[n] ? 2.0f : -2.0f;
    x.data()[2 * n + 1] += labels[n] ? 2.0f : -2.0f;
  }
  return TensorDataset(x, labels);
}

// A fresh folder under the system's temporary folder, removed with everything in it.
struct Dir {
  std::filesystem::path path;
  Dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "xgrad_fit_XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~Dir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace xgrad::testing::fit_fixtures
