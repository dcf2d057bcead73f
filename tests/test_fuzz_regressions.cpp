// Inputs that once broke a reader, kept so they never come back. Each file in tests/data/fuzz_regressions/
// <reader>/ must give a result or an xgrad::Error (never another exception or a crash: run under the
// sanitizers by scripts/test.sh), and each known finding has its exact outcome asserted below. The fuzzers
// (fuzz/) replay the same folders as extra seeds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>

#include "checkpoint_fixtures.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/data/cifar.hpp"
#include "xgrad/data/idx.hpp"
#include "fuzz/checkpoint_fixture.hpp"
#include "xgrad/models/checkpoint.hpp"

using namespace xgrad;
namespace fs = std::filesystem;

namespace {

const fs::path kInputs = fs::path(XGRAD_SOURCE_DIR) / "tests" / "data" / "fuzz_regressions";

// Every input of one reader's folder, sorted so that failures are reported in a stable order.
std::vector<std::string> inputs(const std::string& reader) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(kInputs / reader)) out.push_back(entry.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Runs `read`; only success or an xgrad::Error is acceptable.
void succeeds_or_throws_error(const std::string& path, const std::function<void()>& read) {
  INFO(path);
  try {
    read();
  } catch (const Error&) {
  } catch (const std::exception& e) {
    FAIL("not an xgrad::Error: " << e.what());
  }
}

}  // namespace

TEST_CASE("fuzz regressions: every kept input gives a result or an xgrad::Error", "[fuzz][data][checkpoint]") {
  const auto idx = inputs("idx");
  const auto checkpoints = inputs("checkpoint");
  REQUIRE(!idx.empty());
  REQUIRE(!checkpoints.empty());
  for (const std::string& path : idx) {
    succeeds_or_throws_error(path, [&] { read_idx_images(path); });
    succeeds_or_throws_error(path, [&] { read_idx_labels(path); });
    succeeds_or_throws_error(path, [&] { read_cifar10(path); });
  }
  for (const std::string& path : checkpoints) {
    testing::TinyNet net(1);
    succeeds_or_throws_error(path, [&] { load_weights(path, net, false); });
  }
}

TEST_CASE("fuzz regression: an IDX header of 0 images of 2^25 x 2^25 pixels allocates nothing", "[fuzz][data][idx]") {
  // fuzz_idx: 16 bytes (magic 2051, 0 images, 33554432 x 33555200 pixels) made the reader allocate one
  // image's buffer, 2^50 bytes, before reading the (empty) payload: std::bad_alloc, or an ASan report.
  const Tensor images = read_idx_images((kInputs / "idx" / "zero_images_huge_pixels").string());
  CHECK(images.shape() == Shape{0, 1, 33554432, 33555200});
  CHECK(images.numel() == 0);
}

TEST_CASE("fuzz regression: checkpoint arrays nested 20,000 deep are refused, not a stack overflow",
          "[fuzz][checkpoint]") {
  // Copying a parsed document recurses once per level of nesting: metadata holding 20,000 nested arrays
  // (a 40 KB file) overflowed the stack in load_checkpoint. Generated here rather than kept as a file.
  testing::TempDir dir;
  const std::string path = dir.file("deep.json");
  const std::string head = R"({"format": "xgrad.checkpoint", "version": 1, "epoch": 0, "step": 0, "metadata": {"x": )";
  testing::write_text(path, head + std::string(20000, '[') + std::string(20000, ']') + "}}");
  testing::TinyNet net(1);
  const auto before = testing::snapshot(net);
  // The top-level object and "metadata" are 2 levels, so the 127th '[' is the 129th level.
  const std::string at = "(at byte " + std::to_string(head.size() + 126) + ")";
  CHECK_THROWS_WITH(load_checkpoint(path, net),
                    Catch::Contains(path) && Catch::Contains("nested deeper than 128 levels " + at));
  CHECK(testing::snapshot(net) == before);
  // 128 levels are still read, and brackets inside strings do not count.
  testing::write_text(path, head + std::string(126, '[') + std::string(126, ']') + R"(, "y": ")" +
                                std::string(500, '[') + R"("}})");
  CHECK_THROWS_WITH(load_checkpoint(path, net), Catch::Contains("field '/model' is missing"));
}

TEST_CASE("fuzz regression: a tensor shape whose element count overflows is refused", "[fuzz][checkpoint]") {
  // An Adam moment of shape [4294967296, 4294967296] has 2^64 elements, which numel() wraps to 0: an empty
  // "values" array matched it and the decoder built a tensor whose shape promised more floats than it held
  // (caught later only because the shape differs from the parameter's). The file is a fuzz seed so edited.
  const std::string path = (kInputs / "checkpoint" / "shape_count_overflow.json").string();
  fuzz::CheckpointFixture f;
  const auto before = f.snapshot();
  CHECK_THROWS_WITH(load_checkpoint(path, f.model, &f.adam, &f.schedule, {&f.gen}),
                    Catch::Contains("field '/optimizer/state/0.bias/exp_avg/shape/1' makes the element count "
                                    "overflow"));
  CHECK(f.snapshot() == before);
}
