// Layer settings in the checkpoint JSON: see checkpoint_format.hpp. A checkpoint holds tensors, and the
// model is built by code; Conv2d's dilation and groups are written beside them because a wrong dilation
// keeps every shape and would load silently into a different function. They are checked, not restored,
// as the optimizer's and schedule's settings are. Files written before they existed have no "conv2d"
// entry and load as before.
#include <string>
#include <utility>
#include <vector>

#include "xgrad/layers/conv2d.hpp"
#include "xgrad/models/checkpoint_format.hpp"
#include "xgrad/models/checkpoint_json.hpp"

namespace xgrad::checkpoint_format {
namespace {

// Every Conv2d of the tree with its dotted name, depth first in registration order.
void find_convs(const Module& m, const std::string& name, std::vector<std::pair<std::string, const Conv2d*>>& out) {
  if (const auto* conv = dynamic_cast<const Conv2d*>(&m)) out.emplace_back(name, conv);
  for (const auto& [child_name, child] : m.children()) {
    find_convs(*child, name.empty() ? child_name : name + "." + child_name, out);
  }
}

std::string pair_text(int h, int w) { return "[" + std::to_string(h) + ", " + std::to_string(w) + "]"; }

}  // namespace

Json encode_layer_settings(const Module& model) {
  std::vector<std::pair<std::string, const Conv2d*>> convs;
  find_convs(model, "", convs);
  Json out = Json::object();
  for (const auto& [name, conv] : convs) {
    const Conv2dOptions& o = conv->options();
    out[name] = Json{{"dilation", {o.dilation.h, o.dilation.w}}, {"groups", o.groups}};
  }
  return out;
}

void check_layer_settings(const Json& settings, const Module& model, bool strict) {
  const std::string at = "/model/conv2d";
  expect_object(settings, at);
  std::vector<std::pair<std::string, const Conv2d*>> convs;
  find_convs(model, "", convs);
  for (const auto& entry : settings.items()) {
    const std::string e_at = child(at, entry.key());
    const Conv2d* conv = nullptr;
    for (const auto& [name, c] : convs) conv = name == entry.key() ? c : conv;
    if (!conv) {
      if (strict) throw FieldError(e_at, "is not one of the model's Conv2d layers");
      continue;
    }
    const Json& fields = expect_object(entry.value(), e_at);
    expect_only(fields, e_at, {"dilation", "groups"});
    const Conv2dOptions& o = conv->options();
    const std::string note = " (layer settings are checked, not restored)";
    if (fields.contains("dilation")) {
      const Json& d = expect_array(fields["dilation"], e_at + "/dilation");
      if (d.size() != 2) throw FieldError(e_at + "/dilation", "must hold 2 values, found " + std::to_string(d.size()));
      const int h = int(expect_integer(d[0], child(e_at + "/dilation", 0), 1));
      const int w = int(expect_integer(d[1], child(e_at + "/dilation", 1), 1));
      if (h != o.dilation.h || w != o.dilation.w) {
        throw FieldError(e_at + "/dilation", "is " + pair_text(h, w) + "; the model's " + conv->describe() +
                                                 " has dilation " + pair_text(o.dilation.h, o.dilation.w) + note);
      }
    }
    if (fields.contains("groups")) {
      const std::int64_t g = expect_integer(fields["groups"], e_at + "/groups", 1);
      if (g != o.groups) {
        throw FieldError(e_at + "/groups", "is " + std::to_string(g) + "; the model's " + conv->describe() +
                                               " has groups " + std::to_string(o.groups) + note);
      }
    }
  }
}

}  // namespace xgrad::checkpoint_format
