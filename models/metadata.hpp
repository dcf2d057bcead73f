// Metadata: the free-form notes saved with a checkpoint or weights file (architecture, metrics, a report):
// a small tree of null, booleans, integers, doubles, strings, lists and maps whose keys keep their
// insertion order. Not a JSON library (no parser, no printer): the checkpoint code converts it to and from
// the file's JSON, so this header costs a user's compile almost nothing.
//
//   Metadata m = {{"architecture", "TinyNet"}, {"metrics", {{"loss", 0.25}, {"epochs", {1, 2}}}}};
//   m["seed"] = 7;  if (m.contains("metrics")) double loss = m.at("metrics").at("loss").as_double();
//
// Brace lists read as in the usual C++ JSON libraries: a list whose every element is a two-element list
// starting with a string is a map, anything else a list.
#pragma once
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace xgrad {

class Metadata {
 public:
  using List = std::vector<Metadata>;
  using Map = std::vector<std::pair<std::string, Metadata>>;  // insertion order; keys unique

  Metadata() = default;  // null
  Metadata(std::nullptr_t) {}
  Metadata(bool b) : kind_(Kind::Bool), bool_(b) {}
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  Metadata(T i) : kind_(Kind::Integer), integer_(static_cast<std::int64_t>(i)) {}
  template <std::floating_point T>
  Metadata(T d) : kind_(Kind::Double), double_(static_cast<double>(d)) {}
  Metadata(const char* s) : kind_(Kind::String), string_(s) {}
  Metadata(std::string s) : kind_(Kind::String), string_(std::move(s)) {}
  Metadata(List l) : kind_(Kind::List), list_(std::move(l)) {}
  Metadata(Map m) : kind_(Kind::Map), map_(std::move(m)) {}
  Metadata(std::initializer_list<Metadata> init);

  static Metadata object() { return Metadata(Map{}); }  // an empty map
  static Metadata array() { return Metadata(List{}); }  // an empty list

  bool is_null() const { return kind_ == Kind::Null; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_integer() const { return kind_ == Kind::Integer; }
  bool is_double() const { return kind_ == Kind::Double; }
  bool is_number() const { return is_integer() || is_double(); }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_list() const { return kind_ == Kind::List; }
  bool is_map() const { return kind_ == Kind::Map; }

  // Typed reads; each throws xgrad::Error naming the type it found. as_double() also reads an integer.
  bool as_bool() const;
  std::int64_t as_integer() const;
  double as_double() const;
  const std::string& as_string() const;
  const List& as_list() const;
  List& as_list();
  const Map& as_map() const;
  Map& as_map();

  // Maps. operator[] turns a null into an empty map and adds a missing key (null) at the end; at() throws
  // xgrad::Error naming a missing key.
  bool contains(const std::string& key) const;
  Metadata& operator[](const std::string& key);
  const Metadata& at(const std::string& key) const;
  // Lists: appends (a null becomes a list first), and reads with a bounds check.
  void push_back(Metadata value);
  const Metadata& at(std::size_t index) const;
  std::size_t size() const;  // elements of a list or a map, 0 for null, 1 for a scalar

  // Same kinds and values, maps in the same order. An integer and a double are different values.
  friend bool operator==(const Metadata& a, const Metadata& b);

 private:
  // A tagged union kept plain (no std::variant): this header is in every user's compile.
  enum class Kind { Null, Bool, Integer, Double, String, List, Map };
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  std::int64_t integer_ = 0;
  double double_ = 0;
  std::string string_;
  List list_;
  Map map_;
};

}  // namespace xgrad
