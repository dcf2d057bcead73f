// ReduceLROnPlateau's state in the checkpoint JSON: see checkpoint_format.hpp. Apart from the step
// schedules because its state is not a function of the step: the best metric and two counters.
#include <cmath>
#include <limits>

#include "xgrad/models/checkpoint_format.hpp"
#include "xgrad/models/checkpoint_json.hpp"

namespace xgrad::checkpoint_format {

// best is +-infinity until the first step, which JSON numbers cannot hold: it is written as "inf"/"-inf".
Json encode_plateau(const ReduceLROnPlateau& plateau) {
  const PlateauState s = plateau.state_dict();
  Json best = std::isinf(s.best) ? Json(s.best > 0 ? "inf" : "-inf") : Json(s.best);
  return Json{{"settings", plateau.describe()},     {"best", std::move(best)},
              {"num_bad_epochs", s.num_bad_epochs}, {"cooldown_counter", s.cooldown_counter},
              {"last_epoch", s.last_epoch}};
}

PlateauState decode_plateau(const Json& doc, const ReduceLROnPlateau& plateau) {
  const std::string at = "/plateau";
  const Json& j = expect_object(member(doc, "plateau", ""), at);
  expect_only(j, at, {"settings", "best", "num_bad_epochs", "cooldown_counter", "last_epoch"});
  const std::string& settings = expect_string(member(j, "settings", at), at + "/settings");
  if (settings != plateau.describe()) {
    throw FieldError(at + "/settings", "is \"" + settings + "\", the scheduler is \"" + plateau.describe() +
                                           "\" (settings are checked, not restored)");
  }
  PlateauState s;
  const Json& best = member(j, "best", at);
  if (best.is_string()) {
    const std::string& text = best.get_ref<const std::string&>();
    if (text != "inf" && text != "-inf") throw FieldError(at + "/best", "must be a number, \"inf\" or \"-inf\", found \"" + text + "\"");
    s.best = (text == "inf" ? 1 : -1) * std::numeric_limits<double>::infinity();
  } else {
    s.best = expect_finite(best, at + "/best");
  }
  s.num_bad_epochs = expect_integer(member(j, "num_bad_epochs", at), at + "/num_bad_epochs", 0);
  s.cooldown_counter = expect_integer(member(j, "cooldown_counter", at), at + "/cooldown_counter", 0);
  s.last_epoch = expect_integer(member(j, "last_epoch", at), at + "/last_epoch", 0);
  if (auto problem = plateau.find_state_problem(s)) throw FieldError(json_pointer(at, problem->path), problem->message);
  return s;
}

}  // namespace xgrad::checkpoint_format
