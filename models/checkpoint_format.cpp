// Encoding and validating decoding of the checkpoint JSON: see checkpoint_format.hpp.
#include "xgrad/models/checkpoint_format.hpp"
#include "xgrad/models/checkpoint_json.hpp"
#include "xgrad/core/number_text.hpp"

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>

namespace xgrad::checkpoint_format {
namespace {

// The shape's element count must fit in size_t: [2^32, 2^32] would wrap numel() to 0 and match an empty
// "values" array, leaving a tensor whose shape promises more floats than it holds.
Shape decode_shape(const Json& tensor, const std::string& at) {
  const Json& dims = expect_array(member(tensor, "shape", at), at + "/shape");
  Shape shape;
  std::size_t count = 1;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const auto d = static_cast<std::size_t>(expect_integer(dims[i], child(at + "/shape", i), 0));
    if (d != 0 && count > SIZE_MAX / d) {
      throw FieldError(child(at + "/shape", i), "makes the element count overflow: more than memory can hold");
    }
    count *= d;
    shape.push_back(d);
  }
  return shape;
}

std::vector<float> decode_values(const Json& tensor, const std::string& at, std::size_t count) {
  const std::string field = at + "/values";
  const Json& values = expect_array(member(tensor, "values", at), field);
  if (values.size() != count) {
    throw FieldError(field, "has " + std::to_string(values.size()) + " values, the shape needs " +
                                std::to_string(count));
  }
  std::vector<float> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    const Json& x = values[i];
    if (!x.is_number()) {
      throw FieldError(child(field, i), "must be a number, found " + found(x) + " (NaN and infinity are not allowed)");
    }
    out[i] = static_cast<float>(x.get<double>());
    if (!std::isfinite(out[i])) throw FieldError(child(field, i), "is " + x.dump() + ", outside float32's range");
  }
  return out;
}

// A tensor entry {"shape", "values"} whose shape is checked against `expected` (whose shape that is: `whose`).
std::vector<float> decode_tensor(const Json& j, const std::string& at, const Shape& expected, const char* whose) {
  expect_only(expect_object(j, at), at, {"shape", "values"});
  const Shape shape = decode_shape(j, at);
  if (shape != expected) {
    throw FieldError(at + "/shape", "is " + shape_str(shape) + ", " + whose + " is " + shape_str(expected));
  }
  return decode_values(j, at, numel(shape));
}

// Buffers with a range of their own: a variance is >= 0 (a negative one makes evaluation's rsqrt NaN).
void check_buffer_range(const std::string& name, const std::vector<float>& values, const std::string& at) {
  const std::string suffix = "running_var";
  const bool variance = name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  if (!variance) return;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] < 0) {
      throw FieldError(child(at + "/values", i), "is " + shortest_text(values[i]) + "; a running variance is >= 0");
    }
  }
}

std::uint64_t decode_hex(const Json& j, const std::string& at) {
  const std::string& text = expect_string(j, at);
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const bool prefixed = text.size() > 2 && text.size() <= 18 && text.compare(0, 2, "0x") == 0;
  const auto [ptr, error] = prefixed ? std::from_chars(text.data() + 2, end, value, 16)
                                     : std::from_chars(end, end, value, 16);
  if (!prefixed || error != std::errc() || ptr != end) {
    throw FieldError(at, "must be \"0x\" and 1 to 16 hexadecimal digits, found " + found(j));
  }
  return value;
}

}  // namespace

std::string json_pointer_token(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string json_pointer(const std::string& at, const std::vector<std::string>& path) {
  std::string out = at;
  for (const std::string& token : path) {
    out += '/';
    out += json_pointer_token(token);
  }
  return out;
}

double to_json_number(float f) {
  char buffer[32];
  const char* end = std::to_chars(buffer, buffer + sizeof buffer, f).ptr;  // shortest that reads back as f
  double nearest = 0;
  std::from_chars(buffer, end, nearest);
  const bool same = static_cast<float>(nearest) == f && std::signbit(nearest) == std::signbit(f);
  return same ? nearest : static_cast<double>(f);
}

Json encode_tensor(const Tensor& t, const std::string& field) {
  Json values = Json::array();
  auto& array = values.get_ref<Json::array_t&>();
  array.reserve(t.numel());
  const float* data = t.data();
  for (std::size_t i = 0; i < t.numel(); ++i) {
    if (!std::isfinite(data[i])) {
      throw FieldError(child(field + "/values", i), std::string("is ") + (std::isnan(data[i]) ? "NaN" : "infinite") +
                                                       ", which JSON cannot hold");
    }
    array.emplace_back(to_json_number(data[i]));
  }
  Json out = Json::object();
  out["shape"] = t.shape();
  out["values"] = std::move(values);
  return out;
}

Json encode_model(const Module& model) {
  Json out = Json::object();
  for (bool buffers : {false, true}) {
    const char* kind = buffers ? "buffers" : "parameters";
    Json entries = Json::object();
    for (const auto& [name, t] : buffers ? model.named_buffers() : model.named_parameters()) {
      entries[name] = encode_tensor(t, child(std::string("/model/") + kind, name));
    }
    out[kind] = std::move(entries);
  }
  Json settings = encode_layer_settings(model);
  if (!settings.empty()) out["conv2d"] = std::move(settings);  // a model without Conv2d: the file as before
  return out;
}

Json encode_optimizer(const Optimizer& optimizer) {
  Json options = Json::object();
  for (const auto& [name, value] : optimizer.options()) options[name] = value;
  const OptimizerState s = optimizer.state_dict();
  Json groups = Json::array();
  for (const auto& g : s.param_groups) {
    groups.push_back(Json{{"lr", g.lr}, {"weight_decay", g.weight_decay}, {"params", g.params}});
  }
  Json state = Json::object();
  for (const auto& [name, ps] : s.state) {
    const std::string at = child("/optimizer/state", name);
    Json entry = Json::object();
    entry["step"] = ps.step;
    for (const auto& [buffer, t] : ps.buffers) entry[buffer] = encode_tensor(t, child(at, buffer));
    state[name] = std::move(entry);
  }
  return Json{{"type", optimizer.type()}, {"options", options}, {"param_groups", groups}, {"state", state}};
}

Json encode_scheduler(const LRScheduler& scheduler) {
  return Json{{"settings", scheduler.describe()},
              {"last_epoch", scheduler.last_epoch()},
              {"base_lrs", scheduler.base_lrs()}};
}

Json encode_generator(const Generator& generator) {
  Json out = Json::array();
  for (std::uint64_t word : generator.state()) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%016" PRIx64, word);
    out.push_back(text);
  }
  return out;
}

void check_header(const Json& doc) {
  expect_object(doc, "");
  const std::string& format = expect_string(member(doc, "format", ""), "/format");
  if (format != kFormat) throw FieldError("/format", "is \"" + format + "\", not \"" + kFormat + "\"");
  const std::int64_t version = expect_integer(member(doc, "version", ""), "/version", 1);
  if (version != kVersion) {
    throw FieldError("/version", "is " + std::to_string(version) + "; this xgrad reads version " +
                                     std::to_string(kVersion));
  }
  expect_only(doc, "", {"format", "version", "epoch", "step", "metadata", "model", "optimizer", "scheduler",
                        "plateau", "generators"});
}

void ModelPlan::apply() {
  for (auto& [tensor, values] : copies) std::copy(values.begin(), values.end(), tensor.data());
}

ModelPlan decode_model(const Json& doc, const Module& model, bool strict) {
  const Json& m = expect_object(member(doc, "model", ""), "/model");
  expect_only(m, "/model", {"parameters", "buffers", "conv2d"});
  if (m.contains("conv2d")) check_layer_settings(m["conv2d"], model, strict);
  ModelPlan plan;
  for (bool buffers : {false, true}) {
    const char* kind = buffers ? "buffers" : "parameters";
    const std::string at = std::string("/model/") + kind;
    const Json& entries = expect_object(member(m, kind, "/model"), at);
    const std::vector<NamedTensor> named = buffers ? model.named_buffers() : model.named_parameters();
    const std::map<std::string, Tensor> expected(named.begin(), named.end());
    std::set<std::string> in_file;
    for (const auto& entry : entries.items()) {
      in_file.insert(entry.key());
      auto it = expected.find(entry.key());
      if (it == expected.end()) {
        if (strict) throw FieldError(child(at, entry.key()), std::string("is not one of the model's ") + kind);
        plan.unexpected_keys.push_back(entry.key());
        continue;
      }
      std::vector<float> values =
          decode_tensor(entry.value(), child(at, entry.key()), it->second.shape(), "the model's");
      check_buffer_range(entry.key(), values, child(at, entry.key()));
      plan.copies.emplace_back(it->second, std::move(values));
    }
    for (const auto& [name, t] : named) {
      if (in_file.count(name)) continue;
      if (strict) throw FieldError(child(at, name), std::string("is missing; the model has it among its ") + kind);
      plan.missing_keys.push_back(name);
    }
  }
  return plan;
}

OptimizerState decode_optimizer(const Json& doc, const Optimizer& optimizer) {
  const std::string at = "/optimizer";
  const Json& o = expect_object(member(doc, "optimizer", ""), at);
  expect_only(o, at, {"type", "options", "param_groups", "state"});
  const std::string& type = expect_string(member(o, "type", at), at + "/type");
  if (type != optimizer.type()) {
    throw FieldError(at + "/type", "is \"" + type + "\", the optimizer is " + optimizer.type());
  }

  const Json& options = expect_object(member(o, "options", at), at + "/options");
  std::set<std::string> known;
  for (const auto& [name, value] : optimizer.options()) {
    known.insert(name);
    const std::string field = child(at + "/options", name);
    const double saved = expect_finite(member(options, name, at + "/options"), field);
    if (saved != value) {
      throw FieldError(field, "is " + shortest_text(saved) + ", the optimizer's is " + shortest_text(value) +
                                  " (settings are checked, not restored)");
    }
  }
  for (const auto& entry : options.items()) {
    if (!known.count(entry.key())) throw FieldError(child(at + "/options", entry.key()), "is not an option of " + type);
  }

  OptimizerState s;
  const Json& groups = expect_array(member(o, "param_groups", at), at + "/param_groups");
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const std::string g_at = child(at + "/param_groups", i);
    const Json& g = expect_object(groups[i], g_at);
    expect_only(g, g_at, {"lr", "weight_decay", "params"});
    OptimizerState::Group group;
    group.lr = expect_finite(member(g, "lr", g_at), g_at + "/lr");
    group.weight_decay = expect_finite(member(g, "weight_decay", g_at), g_at + "/weight_decay");
    const Json& params = expect_array(member(g, "params", g_at), g_at + "/params");
    for (std::size_t k = 0; k < params.size(); ++k) {
      group.params.push_back(expect_string(params[k], child(g_at + "/params", k)));
    }
    s.param_groups.push_back(std::move(group));
  }

  const Json& state = expect_object(member(o, "state", at), at + "/state");
  for (const auto& entry : state.items()) {
    const std::string p_at = child(at + "/state", entry.key());
    const Json& fields = expect_object(entry.value(), p_at);
    ParamState ps;
    ps.step = expect_integer(member(fields, "step", p_at), p_at + "/step", 1);
    for (const auto& buffer : fields.items()) {
      if (buffer.key() == "step") continue;
      const std::string b_at = child(p_at, buffer.key());
      expect_only(expect_object(buffer.value(), b_at), b_at, {"shape", "values"});
      const Shape shape = decode_shape(buffer.value(), b_at);
      ps.buffers.emplace(buffer.key(), from_vector(decode_values(buffer.value(), b_at, numel(shape)), shape));
    }
    s.state.emplace(entry.key(), std::move(ps));
  }
  if (auto problem = optimizer.find_state_problem(s)) throw FieldError(json_pointer(at, problem->path), problem->message);
  return s;
}

SchedulerState decode_scheduler(const Json& doc, const LRScheduler& scheduler) {
  const std::string at = "/scheduler";
  const Json& j = expect_object(member(doc, "scheduler", ""), at);
  expect_only(j, at, {"settings", "last_epoch", "base_lrs"});
  const std::string& settings = expect_string(member(j, "settings", at), at + "/settings");
  if (settings != scheduler.describe()) {
    throw FieldError(at + "/settings", "is \"" + settings + "\", the scheduler is \"" + scheduler.describe() +
                                           "\" (settings are checked, not restored)");
  }
  SchedulerState s;
  s.last_epoch = expect_integer(member(j, "last_epoch", at), at + "/last_epoch", 0);
  const Json& base_lrs = expect_array(member(j, "base_lrs", at), at + "/base_lrs");
  for (std::size_t i = 0; i < base_lrs.size(); ++i) {
    s.base_lrs.push_back(expect_finite(base_lrs[i], child(at + "/base_lrs", i)));
  }
  if (auto problem = scheduler.find_state_problem(s)) throw FieldError(json_pointer(at, problem->path), problem->message);
  return s;
}

std::vector<std::array<std::uint64_t, 4>> decode_generators(const Json& doc, std::size_t count) {
  const std::string at = "/generators";
  const Json& j = expect_array(member(doc, "generators", ""), at);
  if (j.size() != count) {
    throw FieldError(at, "holds " + std::to_string(j.size()) + " generator states, " + std::to_string(count) +
                             " generators were given");
  }
  std::vector<std::array<std::uint64_t, 4>> states;
  for (std::size_t g = 0; g < count; ++g) {
    const std::string g_at = child(at, g);
    const Json& words = expect_array(j[g], g_at);
    if (words.size() != 4) throw FieldError(g_at, "has " + std::to_string(words.size()) + " words, a state has 4");
    std::array<std::uint64_t, 4> state{};
    for (std::size_t i = 0; i < 4; ++i) state[i] = decode_hex(words[i], child(g_at, i));
    if ((state[0] | state[1] | state[2] | state[3]) == 0) {
      throw FieldError(g_at, "is all zeros, which is no valid state");
    }
    states.push_back(state);
  }
  return states;
}

std::int64_t decode_count(const Json& doc, const char* key, std::int64_t max) {
  const std::string at = std::string("/") + key;
  const std::int64_t value = expect_integer(member(doc, key, ""), at, 0);
  if (value > max) throw FieldError(at, "is " + std::to_string(value) + ", more than " + std::to_string(max));
  return value;
}

}  // namespace xgrad::checkpoint_format
