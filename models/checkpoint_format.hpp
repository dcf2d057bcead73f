// The JSON layout of xgrad checkpoints: encoding a model, optimizer, schedule and generators, and
// decoding them with every check done up front into values that are applied only once all is valid.
// Reading and writing files, and naming the file in errors, is checkpoint.cpp's job, not this file's.
//
// {"format": "xgrad.checkpoint", "version": 1, "epoch": 3, "step": 1200, "metadata": {...},
//  "model": {"parameters": {"0.weight": {"shape": [16, 1, 3, 3], "values": [...]}, ...},
//            "buffers": {"1.running_mean": {"shape": [16], "values": [...]}, ...},
//            "conv2d": {"0": {"dilation": [1, 1], "groups": 1}, ...}},   (only when the model has a Conv2d)
//  "optimizer": {"type": "SGD", "options": {"momentum": 0.9, ...},
//                "param_groups": [{"lr": 0.1, "weight_decay": 0, "params": ["0.weight", ...]}],
//                "state": {"0.weight": {"step": 1200, "momentum_buffer": {"shape": [...], "values": [...]}}}},
//  "scheduler": {"settings": "StepLR(step_size=30, gamma=0.1)", "last_epoch": 3, "base_lrs": [0.1]},
//  "plateau": {"settings": "ReduceLROnPlateau(mode='min', ...)", "best": 0.25, "num_bad_epochs": 1,
//              "cooldown_counter": 0, "last_epoch": 3},     ("best" is "inf" / "-inf" before the first step)
//  "generators": [["0x5bd1e9955bd1e995", "0x...", "0x...", "0x..."], ...]}
//
// A weights file holds format, version, metadata and model only. Values are float32 written as JSON
// numbers that read back to the same bits; NaN and infinity have no JSON form and are refused on save.
#pragma once
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "xgrad/core/generator.hpp"
#include "xgrad/layers/module.hpp"
#include "xgrad/models/metadata.hpp"
#include "xgrad/optim/lr_scheduler.hpp"
#include "xgrad/optim/optimizer.hpp"
#include "xgrad/optim/reduce_lr_on_plateau.hpp"

namespace xgrad::checkpoint_format {

inline constexpr const char* kFormat = "xgrad.checkpoint";
inline constexpr std::int64_t kVersion = 1;
using Json = nlohmann::ordered_json;  // keeps the model's order of tensors in the file

// A problem at one place of the document: `field` is a JSON pointer, "/model/parameters/fc.weight/shape".
struct FieldError : std::runtime_error {
  FieldError(std::string field, const std::string& message) : std::runtime_error(message), field(std::move(field)) {}
  std::string field;
};

// A name as one JSON-pointer token: '~' becomes "~0" and '/' becomes "~1" (RFC 6901); dots stay.
std::string json_pointer_token(const std::string& name);
// A state's path ({"state", "fc.weight", "exp_avg"}) as a JSON pointer below `at` ("/optimizer").
std::string json_pointer(const std::string& at, const std::vector<std::string>& path);

// The JSON number written for a float32 value f: the double nearest f's shortest decimal form ("0.1",
// not "0.10000000149011612") when that double rounds back to f, which is checked; else f's exact value.
// Either way any reader that parses the number as a double and rounds it to float32 gets f's bits.
double to_json_number(float f);

// Encoding; throws FieldError at the offending value if a tensor holds a NaN or an infinity.
Json encode_tensor(const Tensor& t, const std::string& field);  // {"shape": [...], "values": [...]}
Json encode_model(const Module& model);                          // {"parameters": ..., "buffers": ...}
Json encode_optimizer(const Optimizer& optimizer);
Json encode_scheduler(const LRScheduler& scheduler);
Json encode_plateau(const ReduceLROnPlateau& plateau);           // checkpoint_plateau.cpp
Json encode_generator(const Generator& generator);               // four "0x" + 16 hex digit strings
// Metadata as JSON, maps in their order; a NaN or an infinity throws FieldError under "/metadata".
Json encode_metadata(const Metadata& metadata);
// Any JSON value as Metadata (an unsigned integer past INT64_MAX becomes a double).
Metadata decode_metadata(const Json& j);

// Decoding; each function checks all it reads and throws FieldError at the first problem.
// `doc` must be an object with format kFormat, version kVersion, and no top-level field unknown to it.
void check_header(const Json& doc);

// What loading a model will do: copy these values into these tensors (shapes already checked).
struct ModelPlan {
  std::vector<std::pair<Tensor, std::vector<float>>> copies;
  std::vector<std::string> missing_keys;     // in the model, not in the file (strict = false only)
  std::vector<std::string> unexpected_keys;  // in the file, not in the model (strict = false only)
  void apply();
};
// Conv2d's dilation and groups by layer name (checkpoint_layers.cpp): written with the model, and checked
// against the model's when a file has them (a file without them, older, is not checked). Strict: every
// name must be a Conv2d of the model.
Json encode_layer_settings(const Module& model);
void check_layer_settings(const Json& settings, const Module& model, bool strict);
// Reads doc["model"]. Strict: the file's names must be exactly the model's. Shapes must always match.
ModelPlan decode_model(const Json& doc, const Module& model, bool strict);
// Reads doc["optimizer"]; its type and options must equal the optimizer's (settings are checked, the
// groups' lr and weight_decay and the per-parameter state are restored).
OptimizerState decode_optimizer(const Json& doc, const Optimizer& optimizer);
// Reads doc["scheduler"]; its settings must equal scheduler.describe().
SchedulerState decode_scheduler(const Json& doc, const LRScheduler& scheduler);
// Reads doc["plateau"]; its settings must equal plateau.describe().
PlateauState decode_plateau(const Json& doc, const ReduceLROnPlateau& plateau);
// Reads doc["generators"], which must hold exactly `count` states.
std::vector<std::array<std::uint64_t, 4>> decode_generators(const Json& doc, std::size_t count);
// Reads an integer in [0, max] at doc[key] ("epoch", "step").
std::int64_t decode_count(const Json& doc, const char* key, std::int64_t max = INT64_MAX);

}  // namespace xgrad::checkpoint_format
