// Checkpoint files: read, parse, validate everything, then apply; encode, then write atomically.
// See checkpoint.hpp.
#include "xgrad/models/checkpoint.hpp"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "xgrad/core/error.hpp"
#include "xgrad/models/atomic_file.hpp"
#include "xgrad/models/checkpoint_format.hpp"
#include "xgrad/models/crc32c.hpp"

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

// A file holds each float as a JSON number of at most ~25 characters and a separator; 32 bytes per value
// bounds any file xgrad writes. Metadata (notes, per-epoch reports) gets a fixed allowance.
constexpr std::uintmax_t kBytesPerValue = 32;
constexpr std::uintmax_t kMetadataAllowance = std::uintmax_t{16} << 20;

// The largest file a checkpoint of `model` can be: its values, and up to three optimizer buffers per
// parameter (Adam's exp_avg, exp_avg_sq, max_exp_avg_sq) when an optimizer is loaded.
std::uintmax_t size_bound(const Module& model, bool with_optimizer) {
  std::uintmax_t values = 0, parameters = 0;
  for (const auto& [name, t] : model.named_parameters()) parameters += t.numel();
  for (const auto& [name, t] : model.named_buffers()) values += t.numel();
  values += parameters * (with_optimizer ? 4 : 1);
  return kMetadataAllowance + kBytesPerValue * values;
}

// The checksum xgrad appends as the document's last field: ,"checksum":"crc32c:xxxxxxxx"} over the text
// before it (with the closing brace), so the check needs no second serialization.
constexpr std::string_view kChecksumKey = ",\"checksum\":\"crc32c:";
constexpr std::size_t kChecksumTail = kChecksumKey.size() + 8 + 2;  // 8 hex digits, '"' and '}'

std::string with_checksum(std::string text) {
  char tail[64];
  std::snprintf(tail, sizeof tail, "%s%08x\"}", std::string(kChecksumKey).c_str(),
                static_cast<unsigned>(crc32c(text)));
  text.pop_back();  // the closing brace, which tail puts back
  return text + tail;
}

// Takes the checksum field off the end of `text` when it is where xgrad writes it, and returns its value.
std::optional<std::uint32_t> split_checksum(const char* op, const std::string& path, std::string& text) {
  std::size_t end = text.size();
  while (end > 0 && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  if (end < kChecksumTail || text.compare(end - kChecksumTail, kChecksumKey.size(), kChecksumKey) != 0) {
    return std::nullopt;
  }
  const std::size_t at = end - kChecksumTail;
  std::uint32_t saved = 0;
  const char* digits = text.data() + at + kChecksumKey.size();
  const auto [ptr, error] = std::from_chars(digits, digits + 8, saved, 16);
  XGRAD_CHECK(error == std::errc() && ptr == digits + 8 && text.compare(end - 2, 2, "\"}") == 0, op, ": '", path,
              "': field '/checksum' is malformed (\"crc32c:\" and 8 hexadecimal digits)");
  text.resize(at);
  text += '}';
  return saved;
}

// Refuses what is not a regular file (a FIFO would block, /dev/zero never end) and anything larger than
// `max_bytes` before reading a byte of it.
std::string read_bounded(const char* op, const std::string& path, std::uintmax_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    detail::fail(op, ": '", path, "': cannot open the file: ", std::strerror(errno));
  }
  XGRAD_CHECK(S_ISREG(st.st_mode), op, ": '", path, "': not a regular file (a directory, device or FIFO)");
  const auto size = static_cast<std::uintmax_t>(st.st_size);
  XGRAD_CHECK(size <= max_bytes, op, ": '", path, "': the file has ", size,
              " bytes, more than a checkpoint of this model can (at most ", max_bytes, ")");
  std::ifstream in(path, std::ios::binary);
  XGRAD_CHECK(in, op, ": '", path, "': cannot open the file: ", std::strerror(errno));
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  XGRAD_CHECK(!in.bad() && static_cast<std::uintmax_t>(in.gcount()) == size, op, ": '", path,
              "': cannot read the file (it changed while being read?)");
  return text;
}

// Reads, parses and verifies the checksum: a file with one must match it (a flipped bit in a number parses
// fine and would resume with changed weights); a file written before checksums existed has none and loads.
Json read_json(const char* op, const std::string& path, std::uintmax_t max_bytes) {
  std::string text = read_bounded(op, path, max_bytes);
  const std::optional<std::uint32_t> saved = split_checksum(op, path, text);
  const std::size_t deep = too_deep_at(text);
  XGRAD_CHECK(deep == std::string::npos, op, ": '", path, "': arrays and objects nested deeper than ", kMaxDepth,
              " levels (at byte ", deep, "); no checkpoint nests that deep");
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::exception& e) {
    // A truncated file fails here ("unexpected end of input"), and so does a number beyond double's range.
    detail::fail(op, ": '", path, "': not valid JSON (", text.size(), " bytes): ", e.what());
  }
  XGRAD_CHECK(saved || !doc.is_object() || !doc.contains("checksum"), op, ": '", path,
              "': field '/checksum' is not the last field of the file, where xgrad writes it");
  if (saved && crc32c(text) != *saved) {
    char message[96];
    std::snprintf(message, sizeof message, "the checksum does not match (the file says %08x, its content gives %08x)",
                  static_cast<unsigned>(*saved), static_cast<unsigned>(crc32c(text)));
    detail::fail(op, ": '", path, "': ", message, ": the file was changed or damaged after it was written");
  }
  return doc;
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
    text = with_checksum(doc.dump());
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
                     const TrainingState& state, const ReduceLROnPlateau* plateau) {
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
    if (plateau) doc["plateau"] = checkpoint_format::encode_plateau(*plateau);
    if (!generators.empty()) {
      Json states = Json::array();
      for (const Generator* gen : generators) states.push_back(checkpoint_format::encode_generator(*gen));
      doc["generators"] = std::move(states);
    }
  });
}

TrainingState load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer, LRScheduler* scheduler,
                              const std::vector<Generator*>& generators, ReduceLROnPlateau* plateau) {
  const char* op = "load_checkpoint";
  for (std::size_t i = 0; i < generators.size(); ++i) {
    XGRAD_CHECK(generators[i], op, ": '", path, "': generator ", i, " is null");
  }
  const Json doc = read_json(op, path, size_bound(model, optimizer != nullptr));
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
    section("plateau", plateau, "ReduceLROnPlateau");
    section("generators", !generators.empty(), "generator");
    TrainingState state;
    state.epoch = checkpoint_format::decode_count(doc, "epoch", INT32_MAX);  // trainers count epochs in an int
    state.step = checkpoint_format::decode_count(doc, "step");
    if (doc.contains("metadata")) state.metadata = checkpoint_format::decode_metadata(doc["metadata"]);
    checkpoint_format::ModelPlan model_plan = checkpoint_format::decode_model(doc, model, true);
    OptimizerState optimizer_state;
    if (optimizer) optimizer_state = checkpoint_format::decode_optimizer(doc, *optimizer);
    SchedulerState scheduler_state;
    if (scheduler) scheduler_state = checkpoint_format::decode_scheduler(doc, *scheduler);
    PlateauState plateau_state;
    if (plateau) plateau_state = checkpoint_format::decode_plateau(doc, *plateau);
    std::vector<std::array<std::uint64_t, 4>> generator_states;
    if (!generators.empty()) generator_states = checkpoint_format::decode_generators(doc, generators.size());

    // Phase 2: apply. Every call below was validated above and cannot fail.
    model_plan.apply();
    if (optimizer) optimizer->load_state_dict(optimizer_state);
    if (scheduler) scheduler->load_state_dict(scheduler_state);
    if (plateau) plateau->load_state_dict(plateau_state);
    for (std::size_t i = 0; i < generators.size(); ++i) generators[i]->set_state(generator_states[i]);
    return state;
  } catch (const FieldError& e) {
    fail_at(op, path, e);
  }
}

TrainingState read_checkpoint_state(const std::string& path, const Module& model) {
  const char* op = "read_checkpoint_state";
  const Json doc = read_json(op, path, size_bound(model, true));
  try {
    checkpoint_format::check_header(doc);
    TrainingState state;
    state.epoch = checkpoint_format::decode_count(doc, "epoch", INT32_MAX);
    state.step = checkpoint_format::decode_count(doc, "step");
    if (doc.contains("metadata")) state.metadata = checkpoint_format::decode_metadata(doc["metadata"]);
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
  const Json doc = read_json(op, path, size_bound(model, true));  // a training checkpoint's model is read too
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
