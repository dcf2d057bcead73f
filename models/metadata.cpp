// Metadata's brace-list rule, typed reads and map/list access: see metadata.hpp.
#include "xgrad/models/metadata.hpp"

#include <algorithm>

#include "xgrad/core/error.hpp"

namespace xgrad {
namespace {

const char* kind(const Metadata& m) {
  if (m.is_null()) return "null";
  if (m.is_bool()) return "a boolean";
  if (m.is_integer()) return "an integer";
  if (m.is_double()) return "a double";
  if (m.is_string()) return "a string";
  if (m.is_list()) return "a list";
  return "a map";
}

}  // namespace

Metadata::Metadata(std::initializer_list<Metadata> init) {
  const bool pairs = std::all_of(init.begin(), init.end(), [](const Metadata& e) {
    return e.is_list() && e.as_list().size() == 2 && e.as_list()[0].is_string();
  });
  if (!pairs || init.size() == 0) {
    kind_ = Kind::List;
    list_ = List(init);
    return;
  }
  Map map;
  for (const Metadata& e : init) {
    const List& pair = e.as_list();
    Metadata* found = nullptr;
    for (auto& [key, value] : map) {
      if (key == pair[0].as_string()) found = &value;
    }
    if (found) {
      *found = pair[1];  // a repeated key keeps its first place and its last value
    } else {
      map.emplace_back(pair[0].as_string(), pair[1]);
    }
  }
  kind_ = Kind::Map;
  map_ = std::move(map);
}

bool Metadata::as_bool() const {
  XGRAD_CHECK(is_bool(), "Metadata: as_bool on ", kind(*this));
  return bool_;
}

std::int64_t Metadata::as_integer() const {
  XGRAD_CHECK(is_integer(), "Metadata: as_integer on ", kind(*this));
  return integer_;
}

double Metadata::as_double() const {
  XGRAD_CHECK(is_number(), "Metadata: as_double on ", kind(*this));
  return is_integer() ? static_cast<double>(integer_) : double_;
}

const std::string& Metadata::as_string() const {
  XGRAD_CHECK(is_string(), "Metadata: as_string on ", kind(*this));
  return string_;
}

const Metadata::List& Metadata::as_list() const {
  XGRAD_CHECK(is_list(), "Metadata: as_list on ", kind(*this));
  return list_;
}

Metadata::List& Metadata::as_list() {
  XGRAD_CHECK(is_list(), "Metadata: as_list on ", kind(*this));
  return list_;
}

const Metadata::Map& Metadata::as_map() const {
  XGRAD_CHECK(is_map(), "Metadata: as_map on ", kind(*this));
  return map_;
}

Metadata::Map& Metadata::as_map() {
  XGRAD_CHECK(is_map(), "Metadata: as_map on ", kind(*this));
  return map_;
}

bool Metadata::contains(const std::string& key) const {
  if (!is_map()) return false;
  return std::any_of(map_.begin(), map_.end(), [&](const auto& entry) { return entry.first == key; });
}

Metadata& Metadata::operator[](const std::string& key) {
  if (is_null()) kind_ = Kind::Map;
  XGRAD_CHECK(is_map(), "Metadata: [\"", key, "\"] on ", kind(*this));
  for (auto& [k, value] : map_) {
    if (k == key) return value;
  }
  map_.emplace_back(key, Metadata());
  return map_.back().second;
}

const Metadata& Metadata::at(const std::string& key) const {
  XGRAD_CHECK(is_map(), "Metadata: at(\"", key, "\") on ", kind(*this));
  for (const auto& [k, value] : map_) {
    if (k == key) return value;
  }
  detail::fail("Metadata: no key \"", key, "\"");
}

void Metadata::push_back(Metadata value) {
  if (is_null()) kind_ = Kind::List;
  XGRAD_CHECK(is_list(), "Metadata: push_back on ", kind(*this));
  list_.push_back(std::move(value));
}

const Metadata& Metadata::at(std::size_t index) const {
  const List& list = as_list();
  XGRAD_CHECK(index < list.size(), "Metadata: index ", index, " of a list of ", list.size());
  return list[index];
}

std::size_t Metadata::size() const {
  if (is_null()) return 0;
  if (is_list()) return list_.size();
  if (is_map()) return map_.size();
  return 1;
}

bool operator==(const Metadata& a, const Metadata& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Metadata::Kind::Null:
      return true;
    case Metadata::Kind::Bool:
      return a.bool_ == b.bool_;
    case Metadata::Kind::Integer:
      return a.integer_ == b.integer_;
    case Metadata::Kind::Double:
      return a.double_ == b.double_;
    case Metadata::Kind::String:
      return a.string_ == b.string_;
    case Metadata::Kind::List:
      return a.list_ == b.list_;
    case Metadata::Kind::Map:
      return a.map_ == b.map_;
  }
  return false;
}

}  // namespace xgrad
