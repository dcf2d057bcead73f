// nlohmann::json <-> xgrad::Metadata, for the trainers, whose reports are nlohmann::json and whose
// checkpoints carry part of a report as metadata. The library itself keeps JSON out of its headers.
#pragma once
#include <cstdint>

#include <nlohmann/json.hpp>

#include "xgrad/models/metadata.hpp"

namespace xgrad::examples {

inline Metadata to_metadata(const nlohmann::json& j) {
  if (j.is_boolean()) return Metadata(j.get<bool>());
  if (j.is_number_unsigned() && j.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    return Metadata(j.get<double>());
  }
  if (j.is_number_integer()) return Metadata(j.get<std::int64_t>());
  if (j.is_number_float()) return Metadata(j.get<double>());
  if (j.is_string()) return Metadata(j.get<std::string>());
  if (j.is_array()) {
    Metadata::List list;
    for (const auto& e : j) list.push_back(to_metadata(e));
    return Metadata(std::move(list));
  }
  if (j.is_object()) {
    Metadata::Map map;
    for (const auto& [key, value] : j.items()) map.emplace_back(key, to_metadata(value));
    return Metadata(std::move(map));
  }
  return Metadata();
}

inline nlohmann::json to_json(const Metadata& m) {
  if (m.is_bool()) return m.as_bool();
  // A whole number >= 0 comes back unsigned, as nlohmann's parser reads it from a file.
  if (m.is_integer()) {
    if (m.as_integer() >= 0) return static_cast<std::uint64_t>(m.as_integer());
    return m.as_integer();
  }
  if (m.is_double()) return m.as_double();
  if (m.is_string()) return m.as_string();
  if (m.is_list()) {
    nlohmann::json out = nlohmann::json::array();
    for (const Metadata& e : m.as_list()) out.push_back(to_json(e));
    return out;
  }
  if (m.is_map()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : m.as_map()) out[key] = to_json(value);
    return out;
  }
  return nullptr;
}

}  // namespace xgrad::examples
