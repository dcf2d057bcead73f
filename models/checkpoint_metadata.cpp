// Metadata to and from the checkpoint's JSON: see checkpoint_format.hpp. Kept apart from the tensor and
// optimizer encodings because it is the one free-form part of the file.
#include <cmath>
#include <cstdint>

#include "xgrad/models/checkpoint_format.hpp"

namespace xgrad::checkpoint_format {
namespace {

Json encode_at(const Metadata& m, const std::string& at) {
  if (m.is_null()) return Json(nullptr);
  if (m.is_bool()) return Json(m.as_bool());
  if (m.is_integer()) return Json(m.as_integer());
  if (m.is_double()) {
    const double d = m.as_double();
    if (!std::isfinite(d)) throw FieldError(at, std::string("is ") + (std::isnan(d) ? "NaN" : "infinite") +
                                                    ", which JSON cannot hold");
    return Json(d);
  }
  if (m.is_string()) return Json(m.as_string());
  if (m.is_list()) {
    Json out = Json::array();
    const Metadata::List& list = m.as_list();
    for (std::size_t i = 0; i < list.size(); ++i) out.push_back(encode_at(list[i], at + "/" + std::to_string(i)));
    return out;
  }
  Json out = Json::object();
  for (const auto& [key, value] : m.as_map()) out[key] = encode_at(value, at + "/" + json_pointer_token(key));
  return out;
}

}  // namespace

Json encode_metadata(const Metadata& metadata) { return encode_at(metadata, "/metadata"); }

// The document was parsed with its depth limited (checkpoint.cpp), so the recursion is bounded.
Metadata decode_metadata(const Json& j) {
  switch (j.type()) {
    case Json::value_t::boolean:
      return Metadata(j.get<bool>());
    case Json::value_t::number_integer:
      return Metadata(j.get<std::int64_t>());
    case Json::value_t::number_unsigned: {
      const auto u = j.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(INT64_MAX)) return Metadata(static_cast<std::int64_t>(u));
      return Metadata(static_cast<double>(u));
    }
    case Json::value_t::number_float:
      return Metadata(j.get<double>());
    case Json::value_t::string:
      return Metadata(j.get<std::string>());
    case Json::value_t::array: {
      Metadata::List list;
      for (const Json& e : j) list.push_back(decode_metadata(e));
      return Metadata(std::move(list));
    }
    case Json::value_t::object: {
      Metadata::Map map;
      for (const auto& entry : j.items()) map.emplace_back(entry.key(), decode_metadata(entry.value()));
      return Metadata(std::move(map));
    }
    default:
      return Metadata();  // null (and the parser's "discarded", which a parsed document never holds)
  }
}

}  // namespace xgrad::checkpoint_format
