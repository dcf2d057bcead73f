// Checkpoint round trips: float32 bit-exactness (special values included), the JSON layout tools read,
// optimizer / schedule / generator state, weights-only files with strict and non-strict loading.
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>

#include "checkpoint_fixtures.hpp"
#include "xgrad/models/checkpoint.hpp"
#include "xgrad/models/checkpoint_format.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/sgd.hpp"

using namespace xgrad;
using namespace xgrad::testing;
using checkpoint_format::Json;

namespace {

float from_bits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

std::uint32_t to_bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

// Writes values the way a checkpoint does and reads them back the way any JSON reader does: text, then
// a double, then float32.
std::vector<float> through_json_text(const std::vector<float>& values) {
  const Json encoded = checkpoint_format::encode_tensor(from_vector(values, {values.size()}), "/t");
  const Json parsed = Json::parse(encoded.dump());
  std::vector<float> out;
  for (const Json& x : parsed["values"]) out.push_back(static_cast<float>(x.get<double>()));
  return out;
}

}  // namespace

TEST_CASE("float32 values survive the JSON text bit for bit, special values included", "[checkpoint]") {
  const std::vector<float> special = {
      0.0f, -0.0f, 1.0f, -1.0f, 0.1f, 1.0f / 3, 1e-45f /* smallest subnormal */, -1e-45f,
      std::numeric_limits<float>::denorm_min() * 12345, FLT_MIN, std::nextafter(FLT_MIN, 0.0f), FLT_MAX,
      -FLT_MAX, 3.4028235e38f, std::nextafter(FLT_MAX, 0.0f), 16777216.0f, 16777218.0f, 123456792.0f,
      1e20f, 2.5e-38f, 0.3f, 7.038531e-26f, 9.8e-39f};
  const std::vector<float> back = through_json_text(special);
  for (std::size_t i = 0; i < special.size(); ++i) {
    INFO("value " << special[i] << " (bits 0x" << std::hex << to_bits(special[i]) << ")");
    CHECK(to_bits(back[i]) == to_bits(special[i]));
  }
  // Random bit patterns over every exponent, NaN and infinity excluded.
  Generator gen(2024);
  std::vector<float> random;
  while (random.size() < 200000) {
    const float f = from_bits(static_cast<std::uint32_t>(gen.next_u64() >> 32));
    if (std::isfinite(f)) random.push_back(f);
  }
  const std::vector<float> random_back = through_json_text(random);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < random.size(); ++i) mismatches += to_bits(random_back[i]) != to_bits(random[i]);
  CHECK(mismatches == 0);
}

TEST_CASE("values are written in their short decimal form, -0 keeps its sign", "[checkpoint]") {
  const Json j = checkpoint_format::encode_tensor(from_vector({0.1f, -0.0f, 1.0f, 1e-45f}, {2, 2}), "/t");
  const std::string text = j.dump();
  CHECK(text == R"({"shape":[2,2],"values":[0.1,-0.0,1.0,1e-45]})");
}

TEST_CASE("a checkpoint round trip restores every tensor, state and count exactly", "[checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("ckpt.json");
  TinyNet net(1);
  Adam opt(net.named_parameters(), AdamOptions{.lr = 0.01, .weight_decay = 0.001, .amsgrad = true});
  StepLR sched(opt, 2, 0.5);
  Generator data(5), other(6);
  for (int i = 0; i < 3; ++i) {
    train_step(net, opt, data);
    sched.step();
  }
  TrainingState state{3, 30, {{"architecture", "TinyNet"}, {"metrics", {{"loss", 0.25}}}}};
  save_checkpoint(path, net, &opt, &sched, {&data, &other}, state);
  const Snapshot saved = snapshot(net, &opt, &sched, {&data, &other});

  // Fresh objects, built differently, receive the exact state.
  TinyNet net2(99);
  Adam opt2(net2.named_parameters(), AdamOptions{.lr = 0.01, .weight_decay = 0.001, .amsgrad = true});
  StepLR sched2(opt2, 2, 0.5);
  Generator data2(0), other2(0);
  REQUIRE_FALSE(snapshot(net2, &opt2, &sched2, {&data2, &other2}) == saved);
  const TrainingState loaded = load_checkpoint(path, net2, &opt2, &sched2, {&data2, &other2});
  CHECK(snapshot(net2, &opt2, &sched2, {&data2, &other2}) == saved);
  CHECK(loaded.epoch == 3);
  CHECK(loaded.step == 30);
  CHECK(loaded.metadata == state.metadata);
  CHECK(opt2.param_groups()[0].lr == 0.005);  // restored from the optimizer's state, not recomputed
}

TEST_CASE("the file is plain JSON that lists every tensor by dotted name", "[checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("ckpt.json");
  TinyNet net(1);
  SGD opt(net.named_parameters(), SGDOptions{.lr = 0.1, .momentum = 0.9});
  Generator data(5);
  train_step(net, opt, data);
  save_checkpoint(path, net, &opt, nullptr, {&data}, {1, 1, {{"architecture", "TinyNet"}}});

  const Json doc = Json::parse(read_text(path));
  CHECK(doc["format"] == "xgrad.checkpoint");
  CHECK(doc["version"] == 1);
  std::vector<std::string> names;
  for (const auto& entry : doc["model"]["parameters"].items()) names.push_back(entry.key());
  CHECK(names == std::vector<std::string>{"scale", "first.weight", "first.bias", "second.inner.weight",
                                          "second.inner.bias"});
  CHECK(doc["model"]["buffers"].contains("second.inner.running_mean"));
  CHECK(doc["model"]["parameters"]["scale"]["shape"] == Json::array({2, 3}));
  CHECK(doc["model"]["parameters"]["scale"]["values"].size() == 6);
  CHECK(doc["optimizer"]["type"] == "SGD");
  CHECK(doc["optimizer"]["options"]["momentum"] == 0.9);
  CHECK(doc["optimizer"]["state"]["first.weight"]["step"] == 1);
  CHECK(doc["optimizer"]["state"]["first.weight"]["momentum_buffer"]["shape"] == Json::array({3}));
  CHECK(doc["optimizer"]["param_groups"][0]["lr"] == 0.1);
  // Generator words are hex strings: JSON numbers past 2^53 lose digits in many readers.
  const std::string word = doc["generators"][0][0];
  CHECK(word.size() == 18);
  CHECK(word.rfind("0x", 0) == 0);
  CHECK(doc["metadata"]["architecture"] == "TinyNet");
}

TEST_CASE("saving a NaN or an infinity fails, names the field and keeps the old file", "[checkpoint][errors]") {
  TempDir dir;
  const std::string path = dir.file("ckpt.json");
  TinyNet net(1);
  save_weights(path, net);
  const std::string before = read_text(path);
  net.named_parameters()[1].second.data()[2] = std::nanf("");
  CHECK_THROWS_WITH(save_weights(path, net), Catch::Contains("save_weights: '" + path + "'") &&
                                                 Catch::Contains("'/model/parameters/first.weight/values/2'") &&
                                                 Catch::Contains("NaN"));
  net.named_parameters()[1].second.data()[2] = INFINITY;
  CHECK_THROWS_WITH(save_checkpoint(path, net), Catch::Contains("infinite"));
  CHECK(read_text(path) == before);
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), {}) == 1);  // no temporary left
}

TEST_CASE("weights-only files round trip and load strictly by default", "[checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("weights.json");
  TinyNet net(1);
  save_weights(path, net, {{"architecture", "TinyNet"}});
  const Json doc = Json::parse(read_text(path));
  CHECK_FALSE(doc.contains("optimizer"));
  CHECK_FALSE(doc.contains("epoch"));

  TinyNet net2(2);
  const IncompatibleKeys keys = load_weights(path, net2);
  CHECK(keys.missing_keys.empty());
  CHECK(keys.unexpected_keys.empty());
  CHECK(snapshot(net2) == snapshot(net));

  // A training checkpoint's model section loads as weights too.
  SGD opt(net.named_parameters(), SGDOptions{.lr = 0.1});
  Generator data(3);
  train_step(net, opt, data);
  save_checkpoint(dir.file("full.json"), net, &opt);
  load_weights(dir.file("full.json"), net2);
  CHECK(snapshot(net2) == snapshot(net));
}

TEST_CASE("non-strict weight loading skips and reports unmatched names", "[checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("weights.json");
  Generator gen(4);
  Affine small(3, gen);  // names: weight, bias, running_mean
  save_weights(path, small);
  TinyNet net(1);
  const Snapshot before = snapshot(net);
  CHECK_THROWS_WITH(load_weights(path, net), Catch::Contains("'/model/parameters/weight' is not one of the model's"));
  CHECK(snapshot(net) == before);

  const IncompatibleKeys keys = load_weights(path, net, false);
  CHECK(keys.unexpected_keys == std::vector<std::string>{"weight", "bias", "running_mean"});
  CHECK(keys.missing_keys == std::vector<std::string>{"scale", "first.weight", "first.bias", "second.inner.weight",
                                                      "second.inner.bias", "first.running_mean",
                                                      "second.inner.running_mean"});
  CHECK(snapshot(net) == before);

  // Shapes must match even when not strict, as in PyTorch.
  Json doc = Json::parse(read_text(path));
  doc.erase("checksum");  // an edited file without a checksum is checked field by field
  doc["model"]["parameters"]["weight"]["shape"] = Json::array({1, 3});
  write_text(path, doc.dump());
  CHECK_THROWS_WITH(load_weights(path, small, false),
                    Catch::Contains("'/model/parameters/weight/shape' is (1, 3), the model's is (3)"));
}
