// The complete programs shown in README.md (examples/readme_classify.cpp, readme_regression.cpp,
// readme_custom_module.cpp, quickstart.cpp): each README code block is byte-identical to its file, so the
// two cannot drift, and each program runs on small data and prints what the README says it does.
#include <catch2/catch.hpp>

#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "example_runner.hpp"

using namespace example_runner;

namespace {

std::string source(const std::string& relative) { return read_text(std::string(XGRAD_SOURCE_DIR) + "/" + relative); }

// Every number captured by `pattern`'s first group, in order.
std::vector<double> numbers(const std::string& text, const std::string& pattern) {
  std::vector<double> out;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back(std::stod((*it)[1].str()));
  return out;
}

}  // namespace

TEST_CASE("README: each complete program is its examples/ file, byte for byte", "[examples][readme]") {
  const std::string readme = source("README.md");
  for (const char* file : {"examples/quickstart.cpp", "examples/readme_classify.cpp",
                           "examples/readme_regression.cpp", "examples/readme_custom_module.cpp"}) {
    INFO(file << ": README.md must hold it as a ```cpp block, unchanged (edit both, or copy the file in)");
    const std::string text = source(file);
    REQUIRE_FALSE(text.empty());
    CHECK(readme.find("```cpp\n" + text + "```\n") != std::string::npos);
    // A user's program: the installed header only, nothing from examples/common.
    CHECK(text.find("#include <xgrad/xgrad.hpp>") != std::string::npos);
    CHECK(text.find("examples/common") == std::string::npos);
  }
}

TEST_CASE("README image classification: fit learns the generated digits", "[examples][readme]") {
  TempDir dir;
  const Run r = run(dir, "readme_classify", "'" + make_data(dir, "mnist", 2000, 500) + "'");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const std::vector<double> accuracy = numbers(r.out, R"(epoch \d: loss [0-9.]+, test accuracy ([0-9.]+)%)");
  REQUIRE(accuracy.size() == 2);
  CHECK(accuracy[1] > 50);  // chance is 10%; 79% when written
  // The confusion matrix's diagonal is the accuracy's count of 500 test images.
  const std::vector<double> right = numbers(r.out.substr(r.out.find("classified right:")), R"( (\d+))");
  REQUIRE(right.size() == 10);
  double sum = 0;
  for (double n : right) sum += n;
  CHECK(sum == Approx(accuracy[1] * 5).margin(0.5));
  const Run missing = run(dir, "readme_classify", "'" + (dir / "nowhere") + "'");
  CHECK(missing.status == 1);
  CHECK(missing.err.find("nowhere/train-images-idx3-ubyte: file not found") != std::string::npos);
}

TEST_CASE("README tabular regression: the error in dollars is near the noise, far below guessing", "[examples][readme]") {
  TempDir dir;
  const Run r = run(dir, "readme_regression", "");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const std::vector<double> errors = numbers(r.out, R"(\$(\d+))");
  REQUIRE(errors.size() == 5);  // MAE, the mean's, the noise, a prediction and its actual price
  CHECK(errors[0] < 2 * errors[2]);   // the noise's sd is $2000: its mean absolute value is $1600
  CHECK(errors[1] > 10 * errors[0]);  // always guessing the mean price
  CHECK(std::abs(errors[3] - errors[4]) < 5 * errors[2]);
  // Dollars, not the scaled target: the prices are tens to hundreds of thousands.
  CHECK(errors[4] > 10000);
}

TEST_CASE("README custom module: the resumed run equals the uninterrupted one bit for bit", "[examples][readme]") {
  TempDir dir;
  const std::string checkpoint = dir / "resume.json";
  const Run r = run(dir, "readme_custom_module", "'" + checkpoint + "'");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("the resumed run equals the uninterrupted one bit for bit: yes\n") != std::string::npos);
  CHECK(read_json(checkpoint)["epoch"] == 5);
  // Epochs 6 to 8 twice, with the same losses to 9 digits: once uninterrupted, once resumed.
  const std::string resumed = r.out.substr(r.out.find("resumed from"));
  const std::string uninterrupted = r.out.substr(0, r.out.find("resumed from"));
  const std::vector<double> first = numbers(uninterrupted, R"(epoch [678]: loss (\S+))");
  const std::vector<double> second = numbers(resumed, R"(epoch [678]: loss (\S+))");
  REQUIRE(first.size() == 3);
  CHECK(first == second);
  const std::vector<double> all = numbers(uninterrupted, R"(epoch \d: loss (\S+))");
  REQUIRE(all.size() == 8);
  CHECK(all[7] < all[0] / 10);  // it learns
}
