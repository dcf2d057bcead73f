// Run records in checkpoints and the resume check: see run_record.hpp.
#include "examples/common/run_record.hpp"

#include <charconv>
#include <cstdio>
#include <vector>

#include "xgrad/models/crc32c.hpp"

namespace xgrad::examples {

namespace {

std::string hex32(std::uint32_t x) {
  char text[16];
  std::snprintf(text, sizeof text, "%08x", static_cast<unsigned>(x));
  return text;
}

// The flag that sets each recorded setting.
const char* flag_of(const std::string& key) {
  if (key == "lr") return "--lr";
  if (key == "weight_decay") return "--weight-decay";
  if (key == "schedule") return "--schedule";
  if (key == "optimizer") return "--optimizer";
  if (key == "batch_size") return "--batch-size";
  if (key == "pct_start") return "--pct-start";
  if (key == "label_smoothing") return "--label-smoothing";
  return "--epochs";
}

// A setting as the user writes it on the command line: "0.05", "1", "onecycle" (not "1.0" or "\"onecycle\"").
std::string shown(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) {
    char buffer[32];
    return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, value.get<double>()).ptr);
  }
  return value.dump();
}

[[noreturn]] void bad_field(const std::string& path, const std::string& field, const std::string& what) {
  detail::fail("resume: '", path, "': field '/metadata/", field, "' ", what);
}

}  // namespace

nlohmann::json dataset_record(const std::string& name, const TensorDataset& train, const TensorDataset& test) {
  const Labels& labels = train.labels();
  const std::string_view bytes(reinterpret_cast<const char*>(labels.data()), labels.size() * sizeof labels[0]);
  return {{"name", name},
          {"sample_shape", train.sample_shape()},
          {"train_size", train.size()},
          {"test_size", test.size()},
          {"train_labels_crc32c", hex32(crc32c(bytes))}};
}

nlohmann::json settings_record(const ClassifierConfig& c, double lr) {
  nlohmann::json record = {{"lr", lr},
                            {"weight_decay", c.weight_decay},
                            {"schedule", c.schedule},
                            {"optimizer", c.optimizer},
                            {"batch_size", c.batch_size},
                            {"label_smoothing", c.label_smoothing}};
  // Every schedule but "none" spreads over all the epochs: more epochs would change it.
  if (c.schedule != "none") record["epochs"] = c.epochs;
  if (c.schedule == "onecycle") record["pct_start"] = c.pct_start;
  return record;
}

void check_resume(const std::string& path, const nlohmann::json& metadata, const std::string& architecture,
                  const nlohmann::json& dataset, const nlohmann::json& settings, std::size_t steps_per_epoch) {
  if (!metadata.is_object()) bad_field(path, "", std::string("must be an object, found ") + metadata.type_name());
  if (auto it = metadata.find("architecture"); it != metadata.end()) {
    if (!it->is_string()) bad_field(path, "architecture", "must be a string");
    if (*it != architecture) {
      bad_field(path, "architecture", "is " + it->dump() + ", this run trains " + architecture +
                                          " (--no-bn differs?)");
    }
  }
  if (auto it = metadata.find("report_epochs"); it != metadata.end()) {
    if (!it->is_array()) bad_field(path, "report_epochs", "must be an array");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& epoch = (*it)[i];
      const bool ok = epoch.is_object() && epoch.contains("epoch") && epoch["epoch"].is_number_integer() &&
                      epoch.contains("test_accuracy") && epoch["test_accuracy"].is_number() &&
                      epoch.contains("images_per_second") && epoch["images_per_second"].is_number();
      if (!ok) bad_field(path, "report_epochs/" + std::to_string(i), "must be an epoch's report object");
    }
  }
  if (auto it = metadata.find("steps_in_epoch"); it != metadata.end()) {
    if (!it->is_number_unsigned() || it->get<std::size_t>() >= steps_per_epoch) {
      bad_field(path, "steps_in_epoch", "must be an integer in [0, " + std::to_string(steps_per_epoch) +
                                            "), found " + it->dump());
    }
  }
  if (auto it = metadata.find("dataset"); it != metadata.end()) {
    if (!it->is_object()) bad_field(path, "dataset", "must be an object");
    for (const auto& [key, value] : dataset.items()) {
      if (!it->contains(key)) bad_field(path, "dataset/" + key, "is missing");
      if ((*it)[key] != value) {
        bad_field(path, "dataset/" + key, "is " + (*it)[key].dump() + ", this run's data gives " + value.dump() +
                                              ": the checkpoint was trained on other data (--data, --dataset or "
                                              "--limit differ)");
      }
    }
  }
  if (auto it = metadata.find("settings"); it != metadata.end()) {
    if (!it->is_object()) bad_field(path, "settings", "must be an object");
    // The schedule first: whether "epochs" is recorded depends on it.
    // Checkpoints older than --pct-start and --label-smoothing were trained with their defaults.
    const ClassifierConfig fresh;
    const nlohmann::json defaults = {{"pct_start", fresh.pct_start}, {"label_smoothing", fresh.label_smoothing}};
    for (const char* name :
         {"schedule", "optimizer", "lr", "weight_decay", "batch_size", "epochs", "pct_start", "label_smoothing"}) {
      const std::string key = name;
      if (!settings.contains(key)) continue;
      const auto& value = settings[key];
      if (!it->contains(key) && !defaults.contains(key)) bad_field(path, "settings/" + key, "is missing");
      const auto& saved = it->contains(key) ? (*it)[key] : defaults[key];
      if (saved.type() != value.type() && !(saved.is_number() && value.is_number())) {
        bad_field(path, "settings/" + key, std::string("must be a ") + value.type_name());
      }
      if (saved != value) {
        const std::string flag = flag_of(key), was = shown(saved);
        throw UsageError(flag + " is " + shown(value) + " but the checkpoint '" + path + "' was trained with " + flag +
                         " " + was + ": resume with " + flag + " " + was + " (or start a new run)");
      }
    }
  }
}

}  // namespace xgrad::examples
