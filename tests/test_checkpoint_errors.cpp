// Every kind of corrupt or mismatched checkpoint: each load must fail with a message naming the file
// and the field, and leave the model, optimizer, schedule and generators exactly as they were.
#include <catch2/catch.hpp>

#include <functional>

#include "checkpoint_fixtures.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/models/checkpoint.hpp"
#include "xgrad/models/checkpoint_format.hpp"
#include "xgrad/optim/sgd.hpp"

using namespace xgrad;
using namespace xgrad::testing;
using checkpoint_format::Json;

namespace {

// A good checkpoint saved from one training run, and a second, differently trained set of objects that
// every bad load targets (so that any partial change would show).
struct Setup {
  TempDir dir;
  const std::string good = dir.file("good.json");
  const std::string bad = dir.file("bad.json");
  TinyNet net{1};
  SGD opt{net.named_parameters(), SGDOptions{.lr = 0.1, .momentum = 0.9}};
  StepLR sched{opt, 2, 0.5};
  Generator gen{7};
  TinyNet target{2};
  SGD target_opt{target.named_parameters(), SGDOptions{.lr = 0.1, .momentum = 0.9}};
  StepLR target_sched{target_opt, 2, 0.5};
  Generator target_gen{8};
  Json doc;

  Setup() {
    Generator data(3), other_data(4);
    for (int i = 0; i < 2; ++i) {
      train_step(net, opt, data);
      sched.step();
    }
    train_step(target, target_opt, other_data);
    save_checkpoint(good, net, &opt, &sched, {&gen}, {2, 2, {{"architecture", "TinyNet"}}});
    doc = Json::parse(read_text(good));
    doc.erase("checksum");  // edited copies are checked field by field, not by the checksum
    load_checkpoint(good, net, &opt, &sched, {&gen});  // the good file loads
  }

  Snapshot target_snapshot() { return snapshot(target, &target_opt, &target_sched, {&target_gen}); }

  // Loads `text` into the target objects; the error must name the file and contain every part.
  void reject_text(const std::string& text, const std::vector<std::string>& parts,
                   const std::vector<Generator*>& gens = {}) {
    write_text(bad, text);
    const Snapshot before = target_snapshot();
    const std::vector<Generator*> generators = gens.empty() ? std::vector<Generator*>{&target_gen} : gens;
    try {
      load_checkpoint(bad, target, &target_opt, &target_sched, generators);
      FAIL("load_checkpoint accepted a bad file");
    } catch (const Error& e) {
      const std::string message = e.what();
      INFO(message);
      CHECK(message.find("load_checkpoint: '" + bad + "'") != std::string::npos);
      for (const std::string& part : parts) CHECK(message.find(part) != std::string::npos);
    }
    CHECK(target_snapshot() == before);
  }

  // Edits the good document, then expects the load to fail at `field` with `message`.
  void reject(const std::function<void(Json&)>& edit, const std::string& field, const std::string& message) {
    Json copy = doc;
    edit(copy);
    reject_text(copy.dump(), {"field '" + field + "'", message});
  }
};

}  // namespace

TEST_CASE("checkpoint error: a missing file", "[checkpoint][errors]") {
  Setup s;
  const Snapshot before = s.target_snapshot();
  CHECK_THROWS_WITH(load_checkpoint(s.dir.file("none.json"), s.target, &s.target_opt),
                    Catch::Contains("none.json") && Catch::Contains("cannot open the file"));
  CHECK(s.target_snapshot() == before);
}

TEST_CASE("checkpoint error: a truncated file", "[checkpoint][errors]") {
  Setup s;
  const std::string text = read_text(s.good);
  s.reject_text(text.substr(0, text.size() / 2), {"not valid JSON", "parse error at line 1"});
  s.reject_text(text.substr(0, text.size() - 1), {"not valid JSON", "unexpected end of input"});
  s.reject_text("", {"not valid JSON (0 bytes)"});
}

TEST_CASE("checkpoint error: a file that is not JSON", "[checkpoint][errors]") {
  Setup s;
  s.reject_text("PK\x03\x04 not json", {"not valid JSON", "syntax error"});
  // Python's json module writes NaN as a bare NaN token, which is not JSON.
  std::string text = read_text(s.good);
  const std::size_t at = text.find("\"values\":[") + 10;
  s.reject_text(text.substr(0, at) + "NaN," + text.substr(at), {"not valid JSON", "syntax error"});
}

TEST_CASE("checkpoint error: wrong format name or version", "[checkpoint][errors]") {
  Setup s;
  s.reject([](Json& d) { d["format"] = "torch.pt"; }, "/format", "is \"torch.pt\", not \"xgrad.checkpoint\"");
  s.reject([](Json& d) { d.erase("format"); }, "/format", "is missing");
  s.reject([](Json& d) { d["version"] = 2; }, "/version", "is 2; this xgrad reads version 1");
  s.reject([](Json& d) { d["version"] = "1"; }, "/version", "must be an integer >= 1, found string \"1\"");
  s.reject_text("[1, 2]", {"field ''", "must be an object, found array"});
}

TEST_CASE("checkpoint error: an unknown top-level field", "[checkpoint][errors]") {
  Setup s;
  s.reject([](Json& d) { d["weights"] = Json::object(); }, "/weights", "is not a field here");
}

TEST_CASE("checkpoint error: an unknown parameter or buffer name", "[checkpoint][errors]") {
  Setup s;
  s.reject([](Json& d) { d["model"]["parameters"]["ghost.weight"] = d["model"]["parameters"]["scale"]; },
           "/model/parameters/ghost.weight", "is not one of the model's parameters");
  // A buffer filed under parameters is unknown there too.
  s.reject(
      [](Json& d) {
        d["model"]["parameters"]["first.running_mean"] = d["model"]["buffers"]["first.running_mean"];
      },
      "/model/parameters/first.running_mean", "is not one of the model's parameters");
}

TEST_CASE("checkpoint error: a missing parameter or buffer", "[checkpoint][errors]") {
  Setup s;
  s.reject([](Json& d) { d["model"]["parameters"].erase("first.bias"); }, "/model/parameters/first.bias",
           "is missing; the model has it among its parameters");
  s.reject([](Json& d) { d["model"]["buffers"].erase("second.inner.running_mean"); },
           "/model/buffers/second.inner.running_mean", "is missing");
  s.reject([](Json& d) { d["model"].erase("buffers"); }, "/model/buffers", "is missing");
  s.reject([](Json& d) { d.erase("model"); }, "/model", "is missing");
}

TEST_CASE("checkpoint error: a shape mismatch", "[checkpoint][errors]") {
  Setup s;
  s.reject([](Json& d) { d["model"]["parameters"]["scale"]["shape"] = {3, 2}; }, "/model/parameters/scale/shape",
           "is (3, 2), the model's is (2, 3)");
  s.reject([](Json& d) { d["model"]["parameters"]["scale"]["values"].erase(0); },
           "/model/parameters/scale/values", "has 5 values, the shape needs 6");
}

TEST_CASE("checkpoint error: wrong types", "[checkpoint][errors]") {
  Setup s;
  s.reject([](Json& d) { d["model"] = Json::array(); }, "/model", "must be an object, found array");
  s.reject([](Json& d) { d["model"]["parameters"]["scale"]["values"] = "1,2,3"; },
           "/model/parameters/scale/values", "must be an array, found string");
  s.reject([](Json& d) { d["model"]["parameters"]["scale"]["shape"] = {2, -3}; },
           "/model/parameters/scale/shape/1", "must be an integer >= 0, found number -3");
  s.reject([](Json& d) { d["model"]["parameters"]["scale"]["values"][4] = "0.5"; },
           "/model/parameters/scale/values/4", "must be a number, found string \"0.5\"");
  s.reject([](Json& d) { d["model"]["parameters"]["scale"]["dtype"] = "float16"; },
           "/model/parameters/scale/dtype", "is not a field here; the fields are (shape, values)");
  s.reject([](Json& d) { d["epoch"] = 1.5; }, "/epoch", "must be an integer >= 0, found number 1.5");
  s.reject([](Json& d) { d["optimizer"]["param_groups"][0]["lr"] = "0.1"; }, "/optimizer/param_groups/0/lr",
           "must be a finite number, found string");
  s.reject([](Json& d) { d["optimizer"]["state"]["scale"]["step"] = true; }, "/optimizer/state/scale/step",
           "must be an integer >= 1, found boolean true");
}

TEST_CASE("checkpoint error: values that are not finite float32 numbers", "[checkpoint][errors]") {
  Setup s;
  s.reject([](Json& d) { d["model"]["parameters"]["scale"]["values"][0] = nullptr; },
           "/model/parameters/scale/values/0", "must be a number, found null");
  s.reject([](Json& d) { d["model"]["buffers"]["first.running_mean"]["values"][2] = 1e39; },
           "/model/buffers/first.running_mean/values/2", "outside float32's range");
  s.reject([](Json& d) { d["optimizer"]["state"]["scale"]["momentum_buffer"]["values"][1] = -1e300; },
           "/optimizer/state/scale/momentum_buffer/values/1", "outside float32's range");
  // 1e999 is valid JSON grammar, but no double: the parser refuses it and says where.
  std::string text = s.doc.dump();
  const std::string lr = "\"lr\":0.05";
  REQUIRE(text.find(lr) != std::string::npos);
  text.replace(text.find(lr), lr.size(), "\"lr\":1e999");
  s.reject_text(text, {"not valid JSON", "number overflow parsing '1e999'"});
}

TEST_CASE("checkpoint error: another optimizer type or other settings", "[checkpoint][errors]") {
  Setup s;
  s.reject([](Json& d) { d["optimizer"]["type"] = "Adam"; }, "/optimizer/type", "is \"Adam\", the optimizer is SGD");
  s.reject([](Json& d) { d["optimizer"]["options"]["momentum"] = 0.5; }, "/optimizer/options/momentum",
           "is 0.5, the optimizer's is 0.9 (settings are checked, not restored)");
  s.reject([](Json& d) { d["optimizer"]["options"]["betas"] = {0.9, 0.99}; }, "/optimizer/options/betas",
           "is not an option of SGD");
}

TEST_CASE("checkpoint error: optimizer state that does not fit the parameters", "[checkpoint][errors]") {
  Setup s;
  s.reject([](Json& d) { d["optimizer"]["state"]["ghost"] = d["optimizer"]["state"]["scale"]; },
           "/optimizer/state/ghost", "no parameter of SGD is named 'ghost'");
  s.reject([](Json& d) { d["optimizer"]["state"]["scale"].erase("momentum_buffer"); },
           "/optimizer/state/scale/momentum_buffer", "is missing");
  s.reject([](Json& d) { d["optimizer"]["state"]["scale"]["momentum_buffer"]["shape"] = {6}; },
           "/optimizer/state/scale/momentum_buffer/shape", "is (6), the parameter's is (2, 3)");
  s.reject([](Json& d) { d["optimizer"]["state"]["scale"]["exp_avg"] = Json{{"shape", {1}}, {"values", {1}}}; },
           "/optimizer/state/scale/exp_avg", "is not a buffer of SGD");
  s.reject([](Json& d) { d["optimizer"]["state"]["scale"]["step"] = 0; }, "/optimizer/state/scale/step",
           "must be an integer >= 1, found number 0");
  s.reject([](Json& d) { d["optimizer"]["param_groups"][0]["params"][0] = "other"; },
           "/optimizer/param_groups/0/params", "lists (other, first.weight");
  s.reject([](Json& d) { d["optimizer"]["param_groups"].push_back(d["optimizer"]["param_groups"][0]); },
           "/optimizer/param_groups", "has 2 groups, SGD has 1");
}

TEST_CASE("checkpoint error: sections and objects that do not correspond", "[checkpoint][errors]") {
  Setup s;
  const Snapshot before = s.target_snapshot();
  CHECK_THROWS_WITH(load_checkpoint(s.good, s.target, nullptr, &s.target_sched, {&s.target_gen}),
                    Catch::Contains("field '/optimizer' is in the file but no optimizer was given"));
  CHECK_THROWS_WITH(load_checkpoint(s.good, s.target, &s.target_opt, nullptr, {&s.target_gen}),
                    Catch::Contains("field '/scheduler' is in the file but no scheduler was given"));
  CHECK_THROWS_WITH(load_checkpoint(s.good, s.target, &s.target_opt, &s.target_sched),
                    Catch::Contains("field '/generators' is in the file but no generator was given"));
  CHECK(s.target_snapshot() == before);
  s.reject([](Json& d) { d.erase("scheduler"); }, "/scheduler", "is missing");
  s.reject([](Json& d) { d.erase("optimizer"); }, "/optimizer", "is missing");
}

TEST_CASE("checkpoint error: another schedule or a bad schedule state", "[checkpoint][errors]") {
  Setup s;
  s.reject([](Json& d) { d["scheduler"]["settings"] = "StepLR(step_size=3, gamma=0.5)"; }, "/scheduler/settings",
           "the scheduler is \"StepLR(step_size=2, gamma=0.5)\"");
  s.reject([](Json& d) { d["scheduler"]["last_epoch"] = -1; }, "/scheduler/last_epoch", "must be an integer >= 0");
  s.reject([](Json& d) { d["scheduler"]["base_lrs"].push_back(0.1); }, "/scheduler/base_lrs",
           "has 2 values, the optimizer 1 parameter groups");
  s.reject([](Json& d) { d["scheduler"]["base_lrs"][0] = -0.1; }, "/scheduler/base_lrs/0", "must be finite and >= 0");
}

TEST_CASE("checkpoint error: bad generator states", "[checkpoint][errors]") {
  Setup s;
  s.reject([](Json& d) { d["generators"][0][2] = "0xZZ"; }, "/generators/0/2",
           "must be \"0x\" and 1 to 16 hexadecimal digits, found string \"0xZZ\"");
  s.reject([](Json& d) { d["generators"][0][1] = "0x12345678901234567"; }, "/generators/0/1", "hexadecimal digits");
  s.reject([](Json& d) { d["generators"][0][3] = 12345; }, "/generators/0/3", "must be a string, found number");
  s.reject([](Json& d) { d["generators"][0].erase(3); }, "/generators/0", "has 3 words, a state has 4");
  s.reject([](Json& d) { d["generators"][0] = {"0x0", "0x0", "0x0", "0x0"}; }, "/generators/0", "all zeros");
  Generator extra(1);
  s.reject_text(s.doc.dump(), {"field '/generators'", "holds 1 generator states, 2 generators were given"},
                {&s.target_gen, &extra});
}

TEST_CASE("checkpoint error: bad epoch or step", "[checkpoint][errors]") {
  Setup s;
  s.reject([](Json& d) { d["epoch"] = -1; }, "/epoch", "must be an integer >= 0, found number -1");
  s.reject([](Json& d) { d.erase("step"); }, "/step", "is missing");
}
