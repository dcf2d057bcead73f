// CsvLogger, JsonLogger, ModelCheckpoint, EarlyStopping: see callbacks.hpp.
#include "xgrad/training/callbacks.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

#include "xgrad/core/error.hpp"
#include "xgrad/core/number_text.hpp"
#include "xgrad/models/atomic_file.hpp"
#include "xgrad/models/checkpoint.hpp"

namespace xgrad {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string names(const EpochLogs& logs) {
  std::string out;
  for (const auto& [name, value] : logs) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

// `text` as a JSON string: quotes, backslashes and control characters escaped.
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", u);
      out += escaped;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string json_number(double v) { return std::isfinite(v) ? shortest_text(v) : "null"; }

void save(FitContext& c, const std::string& path, const ReduceLROnPlateau* plateau) {
  save_checkpoint(path, c.model, &c.optimizer, c.scheduler, {&c.train.shuffle_generator(), &c.train.transform_generator()},
                  {.epoch = c.epoch}, plateau);
}

}  // namespace

double monitored(const EpochLogs& logs, const std::string& name, const char* who) {
  const auto it = logs.find(name);
  XGRAD_CHECK(it != logs.end(), who, ": the logs have no '", name, "' to monitor (they have: ", names(logs),
              name.rfind("val_", 0) == 0 ? "; a val_ figure needs FitOptions::validation" : "", ")");
  return it->second;
}

bool improves(double value, double best, const std::string& name, MonitorMode mode, double min_delta) {
  if (std::isnan(value)) return false;
  if (std::isnan(best)) return true;
  const bool max = mode == MonitorMode::Max || (mode == MonitorMode::Auto && name.find("acc") != std::string::npos);
  return max ? value > best + min_delta : value < best - min_delta;
}

CsvLogger::CsvLogger(std::string path) : path_(std::move(path)) {
  XGRAD_CHECK(!path_.empty(), "CsvLogger: the path is empty");
}

bool CsvLogger::on_epoch_end(FitContext&, const EpochLogs& logs) {
  if (columns_.empty()) {
    // "epoch" first, then the rest by name: the header of the first epoch's logs.
    columns_.push_back("epoch");
    for (const auto& [name, value] : logs)
      if (name != "epoch") columns_.push_back(name);
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) text_ += ',';
      text_ += columns_[i];
    }
    text_ += "\n";
  }
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const auto it = logs.find(columns_[i]);
    if (i > 0) text_ += ',';
    if (it != logs.end()) text_ += number(it->second);
  }
  text_ += "\n";
  write_file_atomically(path_, text_);
  return true;
}

JsonLogger::JsonLogger(std::string path) : path_(std::move(path)) {
  XGRAD_CHECK(!path_.empty(), "JsonLogger: the path is empty");
}

bool JsonLogger::on_epoch_end(FitContext& c, const EpochLogs& logs) {
  const auto epoch = logs.find("epoch");
  std::string object = "{\"epoch\": " + json_number(epoch != logs.end() ? epoch->second : double(c.epoch));
  for (const auto& [name, value] : logs)
    if (name != "epoch") object += ", " + json_string(name) + ": " + json_number(value);
  epochs_.push_back(object + "}");
  std::string text = "[\n";
  for (std::size_t i = 0; i < epochs_.size(); ++i) text += "  " + epochs_[i] + (i + 1 < epochs_.size() ? ",\n" : "\n");
  write_file_atomically(path_, text + "]\n");
  return true;
}

ModelCheckpoint::ModelCheckpoint(ModelCheckpointOptions options) : options_(std::move(options)), best_(kNaN) {
  XGRAD_CHECK(!options_.path.empty() || !options_.best_path.empty(),
              "ModelCheckpoint: neither path nor best_path is set");
  XGRAD_CHECK(options_.path != options_.best_path, "ModelCheckpoint: path and best_path are both '", options_.path,
              "'");
}

bool ModelCheckpoint::on_epoch_end(FitContext& c, const EpochLogs& logs) {
  if (!options_.path.empty()) save(c, options_.path, options_.plateau);
  if (!options_.best_path.empty()) {
    const double value = monitored(logs, options_.monitor, "ModelCheckpoint");
    if (improves(value, best_, options_.monitor, options_.mode)) {
      best_ = value;
      save(c, options_.best_path, options_.plateau);
    }
  }
  return true;
}

EarlyStopping::EarlyStopping(EarlyStoppingOptions options) : options_(std::move(options)), best_(kNaN) {
  XGRAD_CHECK(options_.patience >= 0, "EarlyStopping: patience must be >= 0, got ", options_.patience);
  XGRAD_CHECK(options_.min_delta >= 0, "EarlyStopping: min_delta must be >= 0, got ", options_.min_delta);
}

bool EarlyStopping::on_epoch_end(FitContext& c, const EpochLogs& logs) {
  const double value = monitored(logs, options_.monitor, "EarlyStopping");
  if (improves(value, best_, options_.monitor, options_.mode, options_.min_delta)) {
    best_ = value;
    wait_ = 0;
    return true;
  }
  if (++wait_ <= options_.patience) return true;
  stopped_epoch_ = c.epoch;
  return false;
}

}  // namespace xgrad
