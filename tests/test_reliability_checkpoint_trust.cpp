// Checkpoints prove themselves: a CRC-32C over the content catches a flipped digit; epoch and running
// variances are range-checked; what is not a regular file, or is larger than the model could need, is refused
// before a byte is parsed. Every refusal names the file and leaves the objects as they were.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "checkpoint_fixtures.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/models/checkpoint.hpp"
#include "xgrad/models/crc32c.hpp"
#include "xgrad/optim/sgd.hpp"

using namespace xgrad;
using namespace xgrad::testing;
using Json = nlohmann::ordered_json;

TEST_CASE("crc32c matches the published check value", "[reliability][checkpoint]") {
  CHECK(crc32c("123456789") == 0xE3069283u);
  CHECK(crc32c("") == 0u);
  // Continuing over a split gives the same as one call; long inputs take the 8-byte path.
  const std::string text(1000, 'x');
  CHECK(crc32c(text.substr(300), crc32c(text.substr(0, 300))) == crc32c(text));
}

TEST_CASE("checkpoint checksum: one changed digit is caught, and nothing is loaded", "[reliability][checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("ckpt.json");
  TinyNet net(1), target(2);
  save_checkpoint(path, net, nullptr, nullptr, {}, {1, 1, {}});
  std::string text = read_text(path);
  REQUIRE(text.find(",\"checksum\":\"crc32c:") != std::string::npos);
  load_checkpoint(path, target);  // the file as written loads
  TinyNet fresh(2);
  const Snapshot before = snapshot(fresh);
  // A digit of the first value changes to another digit: still valid JSON, another weight.
  const std::size_t at = text.find_first_of("123456789", text.find("\"values\":[") + 10);
  text[at] = text[at] == '9' ? '8' : char(text[at] + 1);
  write_text(path, text);
  CHECK_THROWS_WITH(load_checkpoint(path, fresh),
                    Catch::Contains("'" + path + "'") && Catch::Contains("the checksum does not match"));
  CHECK(snapshot(fresh) == before);
}

namespace {

// The saved document without its checksum, edited by `edit`, written back; the load must fail with `parts`.
void reject_edit(const std::string& path, Module& model, const std::function<void(Json&)>& edit,
                 const std::vector<std::string>& parts) {
  Json doc = Json::parse(read_text(path));
  doc.erase("checksum");
  edit(doc);
  const std::string bad = path + ".bad";
  write_text(bad, doc.dump());
  const Snapshot before = snapshot(model);
  try {
    load_checkpoint(bad, model);
    FAIL("accepted");
  } catch (const Error& e) {
    INFO(e.what());
    for (const std::string& part : parts) CHECK(std::string(e.what()).find(part) != std::string::npos);
  }
  CHECK(snapshot(model) == before);
}

}  // namespace

TEST_CASE("checkpoint range checks: epoch fits an int, running variances are >= 0", "[reliability][checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("ckpt.json");
  TinyNet net(1);
  save_checkpoint(path, net, nullptr, nullptr, {}, {1, 1, {}});
  reject_edit(path, net, [](Json& d) { d["epoch"] = 2147483648LL; },
              {"field '/epoch'", "is 2147483648, more than 2147483647"});
  reject_edit(path, net, [](Json& d) { d["step"] = -1; }, {"field '/step'", "must be an integer >= 0"});
  reject_edit(path, net, [](Json& d) { d["model"]["checksum"] = 1; }, {"field '/model/checksum'"});
  reject_edit(path, net, [](Json& d) { d["checksum"] = "crc32c:00000000"; d["after"] = 1; },
              {"field '/checksum' is not the last field"});

  BatchNorm1d bn(3);
  save_checkpoint(path, bn, nullptr, nullptr, {}, {1, 1, {}});
  reject_edit(path, bn, [](Json& d) { d["model"]["buffers"]["running_var"]["values"][1] = -0.5; },
              {"field '/model/buffers/running_var/values/1'", "is -0.5; a running variance is >= 0"});
}

TEST_CASE("checkpoint loading refuses FIFOs, devices and oversized files before reading them",
          "[reliability][checkpoint]") {
  TempDir dir;
  TinyNet net(1);
  const Snapshot before = snapshot(net);
  const std::string fifo = dir.file("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(load_checkpoint(fifo, net), Catch::Contains("not a regular file"));  // and does not block
  CHECK_THROWS_WITH(load_checkpoint("/dev/zero", net), Catch::Contains("not a regular file"));
  CHECK_THROWS_WITH(load_checkpoint(dir.path().string(), net), Catch::Contains("not a regular file"));

  // 200 MB of nothing (a sparse file: no disk used): refused from its size, at once.
  const std::string junk = dir.file("junk.json");
  { std::ofstream(junk) << "x"; }
  REQUIRE(::truncate(junk.c_str(), 200 << 20) == 0);
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(load_checkpoint(junk, net), Catch::Contains("the file has 209715200 bytes, more than a "
                                                                "checkpoint of this model can"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK_THROWS_WITH(load_weights(junk, net), Catch::Contains("more than a checkpoint of this model can"));
  CHECK_THROWS_WITH(read_checkpoint_state(junk, net), Catch::Contains("more than a checkpoint of this model can"));
  CHECK(snapshot(net) == before);
}

TEST_CASE("read_checkpoint_state returns epoch and metadata without loading tensors", "[reliability][checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("ckpt.json");
  TinyNet net(1), other(2);
  save_checkpoint(path, net, nullptr, nullptr, {}, {3, 30, {{"note", "x"}}});
  const Snapshot before = snapshot(other);
  const TrainingState state = read_checkpoint_state(path, other);
  CHECK(state.epoch == 3);
  CHECK(state.step == 30);
  CHECK(state.metadata.at("note").as_string() == "x");
  CHECK(snapshot(other) == before);
}
