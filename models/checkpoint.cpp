// Checkpoint files: read, parse, validate everything, then apply; encode, then write atomically.
// See checkpoint.hpp.
#include "xgrad/models/checkpoint.hpp"

#include <fstream>
#include <sstream>

#include "xgrad/core/error.hpp"
#include "xgrad/models/atomic_file.hpp"
#include "xgrad/models/checkpoint_format.hpp"

namespace xgrad {
namespace {

using checkpoint_format::FieldError;
using checkpoint_format::Json;

[[noreturn]] void fail_at(const char* op, const std::string& path, const FieldError& e) {
  detail::fail(op, ": '", path, "': field '", e.field, "' ", e.what());
}

// A checkpoint nests 6 levels deep and its metadata a few more. Deeper documents are refused before they are
// parsed: copying, comparing or printing one recurses once per level, and metadata of 20,000 nested arrays
// (a 40 KB file) overflowed the stack while fuzzing. 128 is serde_json's default limit.
constexpr std::size_t kMaxDepth = 128;

// The byte offset where `text` first opens its (kMaxDepth + 1)-th nested array or object, or npos. Brackets
// inside strings do not count; the text need not be valid JSON (the parser judges that).
std::size_t too_deep_at(const std::string& text) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // skips the escaped character, which may be a quote
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string::npos;
}

Json read_json(const char* op, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  XGRAD_CHECK(in, op, ": '", path, "': cannot open the file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  XGRAD_CHECK(!in.bad(), op, ": '", path, "': cannot read the file");
  const std::string text = std::move(buffer).str();
  const std::size_t deep = too_deep_at(text);
  XGRAD_CHECK(deep == std::string::npos, op, ": '", path, "': arrays and objects nested deeper than ", kMaxDepth,
              " levels (at byte ", deep, "); no checkpoint nests that deep");
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    // A truncated file fails here ("unexpected end of input"), and so does a number beyond double's range.
    detail::fail(op, ": '", path, "': not valid JSON (", text.size(), " bytes): ", e.what());
  }
}

// Encodes with `build`, then writes atomically: nothing touches the disk unless encoding succeeded.
template <class Build>
void save(const char* op, const std::string& path, Build build) {
  std::string text;
  try {
    Json doc = Json::object();
    doc["format"] = checkpoint_format::kFormat;
    doc["version"] = checkpoint_format::kVersion;
    build(doc);
    text = doc.dump();
  } catch (const FieldError& e) {
    fail_at(op, path, e);
  } catch (const Json::exception& e) {  // e.g. metadata holding invalid UTF-8
    detail::fail(op, ": '", path, "': cannot encode: ", e.what());
  }
  try {
    write_file_atomically(path, text);
  } catch (const Error& e) {
    detail::fail(op, ": ", e.what());
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer,
                     const LRScheduler* scheduler, const std::vector<Generator*>& generators,
                     const TrainingState& state) {
  for (std::size_t i = 0; i < generators.size(); ++i) {
    XGRAD_CHECK(generators[i], "save_checkpoint: '", path, "': generator ", i, " is null");
  }
  save("save_checkpoint", path, [&](Json& doc) {
    doc["epoch"] = state.epoch;
    doc["step"] = state.step;
    doc["metadata"] = checkpoint_format::encode_metadata(state.metadata);
    doc["model"] = checkpoint_format::encode_model(model);
    if (optimizer) doc["optimizer"] = checkpoint_format::encode_optimizer(*optimizer);
    if (scheduler) doc["scheduler"] = checkpoint_format::encode_scheduler(*scheduler);
    if (!generators.empty()) {
      Json states = Json::array();
      for (const Generator* gen : generators) states.push_back(checkpoint_format::encode_generator(*gen));
      doc["generators"] = std::move(states);
    }
  });
}

TrainingState load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer, LRScheduler* scheduler,
                              const std::vector<Generator*>& generators) {
  const char* op = "load_checkpoint";
  for (std::size_t i = 0; i < generators.size(); ++i) {
    XGRAD_CHECK(generators[i], op, ": '", path, "': generator ", i, " is null");
  }
  const Json doc = read_json(op, path);
  try {
    // Phase 1: decode and check everything; nothing is changed yet.
    checkpoint_format::check_header(doc);
    auto section = [&](const char* key, bool given, const char* what) {
      if (doc.contains(key) && !given) {
        throw FieldError(std::string("/") + key, std::string("is in the file but no ") + what +
                                                     " was given to load it into");
      }
    };
    section("optimizer", optimizer, "optimizer");
    section("scheduler", scheduler, "scheduler");
    section("generators", !generators.empty(), "generator");
    TrainingState state;
    state.epoch = checkpoint_format::decode_count(doc, "epoch");
    state.step = checkpoint_format::decode_count(doc, "step");
    if (doc.contains("metadata")) state.metadata = checkpoint_format::decode_metadata(doc["metadata"]);
    checkpoint_format::ModelPlan model_plan = checkpoint_format::decode_model(doc, model, true);
    OptimizerState optimizer_state;
    if (optimizer) optimizer_state = checkpoint_format::decode_optimizer(doc, *optimizer);
    SchedulerState scheduler_state;
    if (scheduler) scheduler_state = checkpoint_format::decode_scheduler(doc, *scheduler);
    std::vector<std::array<std::uint64_t, 4>> generator_states;
    if (!generators.empty()) generator_states = checkpoint_format::decode_generators(doc, generators.size());

    // Phase 2: apply. Every call below was validated above and cannot fail.
    model_plan.apply();
    if (optimizer) optimizer->load_state_dict(optimizer_state);
    if (scheduler) scheduler->load_state_dict(scheduler_state);
    for (std::size_t i = 0; i < generators.size(); ++i) generators[i]->set_state(generator_states[i]);
    return state;
  } catch (const FieldError& e) {
    fail_at(op, path, e);
  }
}

void save_weights(const std::string& path, const Module& model, const Metadata& metadata) {
  save("save_weights", path, [&](Json& doc) {
    doc["metadata"] = checkpoint_format::encode_metadata(metadata);
    doc["model"] = checkpoint_format::encode_model(model);
  });
}

IncompatibleKeys load_weights(const std::string& path, Module& model, bool strict) {
  const char* op = "load_weights";
  const Json doc = read_json(op, path);
  try {
    checkpoint_format::check_header(doc);
    checkpoint_format::ModelPlan plan = checkpoint_format::decode_model(doc, model, strict);
    plan.apply();
    return {std::move(plan.missing_keys), std::move(plan.unexpected_keys)};
  } catch (const FieldError& e) {
    fail_at(op, path, e);
  }
}

}  // namespace xgrad
