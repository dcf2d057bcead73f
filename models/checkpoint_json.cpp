// The checked JSON readers of checkpoint_json.hpp, shared by checkpoint_format.cpp and checkpoint_plateau.cpp.
#include "xgrad/models/checkpoint_json.hpp"

#include <cmath>
#include <cstdint>
#include <string>

namespace xgrad::checkpoint_format {

std::string child(const std::string& at, const std::string& key) { return at + "/" + json_pointer_token(key); }
std::string child(const std::string& at, std::size_t index) { return at + "/" + std::to_string(index); }

std::string found(const Json& j) {
  if (j.is_structured()) return j.type_name();
  std::string text = j.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return std::string(j.type_name()) + " " + text;
}

const Json& member(const Json& object, const std::string& key, const std::string& at) {
  auto it = object.find(key);
  if (it == object.end()) throw FieldError(child(at, key), "is missing");
  return *it;
}

const Json& expect_object(const Json& j, const std::string& at) {
  if (!j.is_object()) throw FieldError(at, "must be an object, found " + found(j));
  return j;
}

const Json& expect_array(const Json& j, const std::string& at) {
  if (!j.is_array()) throw FieldError(at, "must be an array, found " + found(j));
  return j;
}

const std::string& expect_string(const Json& j, const std::string& at) {
  if (!j.is_string()) throw FieldError(at, "must be a string, found " + found(j));
  return j.get_ref<const std::string&>();
}

// JSON numbers too large for a double parse as infinity: refused like a string would be.
double expect_finite(const Json& j, const std::string& at) {
  if (!j.is_number() || !std::isfinite(j.get<double>())) {
    throw FieldError(at, "must be a finite number, found " + found(j));
  }
  return j.get<double>();
}

std::int64_t expect_integer(const Json& j, const std::string& at, std::int64_t min) {
  const bool fits = j.is_number_integer() && (!j.is_number_unsigned() || j.get<std::uint64_t>() <= INT64_MAX);
  if (!fits || j.get<std::int64_t>() < min) {
    throw FieldError(at, "must be an integer >= " + std::to_string(min) + ", found " + found(j));
  }
  return j.get<std::int64_t>();
}

void expect_only(const Json& object, const std::string& at, std::initializer_list<const char*> allowed) {
  for (const auto& entry : object.items()) {
    bool known = false;
    for (const char* key : allowed) known = known || entry.key() == key;
    if (known) continue;
    std::string list;
    for (const char* key : allowed) list += (list.empty() ? "" : ", ") + std::string(key);
    throw FieldError(child(at, entry.key()), "is not a field here; the fields are (" + list + ")");
  }
}

}  // namespace xgrad::checkpoint_format
