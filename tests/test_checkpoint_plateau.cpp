// ReduceLROnPlateau in checkpoints (save_checkpoint / load_checkpoint's last argument): a run stopped
// mid-way and resumed from the file gives the same lr sequence and the same weights, bit for bit, as the
// run that never stopped; a file and a scheduler that do not correspond are refused, changing nothing.
#include <catch2/catch.hpp>

#include <vector>

#include "checkpoint_fixtures.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

using Catch::Contains;

// Everything in a namespace of its own: the unit tests are compiled ten files to a translation unit.
namespace checkpoint_plateau_test {
using namespace xgrad::testing;

const ReduceLROnPlateauOptions kOptions{.mode = "min", .factor = 0.5, .patience = 1, .threshold = 0.05,
                                        .cooldown = 2, .min_lr = {0.001}};

// The metric of each epoch: improvements, then plateaus long enough to reduce (twice), with a cooldown
// running across epoch 5, where the run is cut.
const std::vector<double> kMetrics{1.0, 0.8, 0.79, 0.81, 0.80, 0.78, 0.5, 0.49, 0.495, 0.52, 0.6, 0.61, 0.3};

struct Run {
  TinyNet net{3};
  SGD opt{net.named_parameters(), SGDOptions{.lr = 0.05, .momentum = 0.5}};
  ReduceLROnPlateau plateau{opt, kOptions};
  Generator data{11};

  // One epoch: a training step at the current lr, then the scheduler sees the epoch's metric. Returns
  // the lr the next epoch will use.
  double epoch(std::size_t e) {
    train_step(net, opt, data);
    plateau.step(kMetrics[e]);
    return plateau.get_last_lr()[0];
  }
};


TEST_CASE("ReduceLROnPlateau resumed from a checkpoint gives the uninterrupted run's lrs and weights",
          "[checkpoint][plateau]") {
  Run whole;
  std::vector<double> want;
  for (std::size_t e = 0; e < kMetrics.size(); ++e) want.push_back(whole.epoch(e));
  // The sequence exercises the rules: reductions after epochs 3 and 8, each followed by a cooldown.
  REQUIRE(want[2] == 0.05);
  REQUIRE(want[3] == 0.05 * 0.5);
  REQUIRE(want[8] == 0.05 * 0.5 * 0.5);
  REQUIRE(want.back() == 0.05 * 0.5 * 0.5);

  for (std::size_t cut : {std::size_t(0), std::size_t(4), std::size_t(5), std::size_t(9)}) {
    TempDir dir;
    const std::string path = dir.file("plateau.json");
    std::vector<double> got;
    {
      Run first;
      for (std::size_t e = 0; e < cut; ++e) got.push_back(first.epoch(e));
      save_checkpoint(path, first.net, &first.opt, nullptr, {&first.data}, {.epoch = std::int64_t(cut)},
                      &first.plateau);
    }
    Run second;  // built from scratch: its state comes from the file alone
    const TrainingState state = load_checkpoint(path, second.net, &second.opt, nullptr, {&second.data},
                                                &second.plateau);
    REQUIRE(state.epoch == std::int64_t(cut));
    for (std::size_t e = cut; e < kMetrics.size(); ++e) got.push_back(second.epoch(e));
    INFO("cut after epoch " << cut);
    CHECK(got == want);  // exact doubles
    CHECK(second.plateau.state_dict().best == whole.plateau.state_dict().best);
    CHECK(second.plateau.state_dict().last_epoch == whole.plateau.state_dict().last_epoch);
    CHECK(snapshot(second.net, &second.opt) == snapshot(whole.net, &whole.opt));
  }
}

TEST_CASE("A plateau section and a scheduler that do not correspond are refused, changing nothing",
          "[checkpoint][plateau]") {
  TempDir dir;
  const std::string with = dir.file("with.json"), without = dir.file("without.json");
  Run run;
  run.epoch(0);
  run.epoch(1);
  save_checkpoint(with, run.net, &run.opt, nullptr, {}, {}, &run.plateau);
  save_checkpoint(without, run.net, &run.opt);
  CHECK(read_text(with).find("\"plateau\"") != std::string::npos);

  Run other;
  const PlateauState before = other.plateau.state_dict();
  CHECK_THROWS_WITH(load_checkpoint(with, other.net, &other.opt),
                    Contains("/plateau") && Contains("no ReduceLROnPlateau was given"));
  CHECK_THROWS_WITH(load_checkpoint(without, other.net, &other.opt, nullptr, {}, &other.plateau),
                    Contains("/plateau") && Contains("is missing"));
  ReduceLROnPlateau max_mode(other.opt, {.mode = "max"});
  CHECK_THROWS_WITH(load_checkpoint(with, other.net, &other.opt, nullptr, {}, &max_mode),
                    Contains("/plateau/settings") && Contains("mode='min'"));

  // An edited file (its checksum taken off, so that it is checked field by field): a counter beyond the
  // cooldown, and a best that is neither a number nor an infinity.
  std::string text = read_text(with);
  text = text.substr(0, text.find(",\"checksum\"")) + "}";
  auto edited = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    REQUIRE(t.find(from) != std::string::npos);
    write_text(with, t.replace(t.find(from), from.size(), to));
  };
  edited("\"cooldown_counter\":0", "\"cooldown_counter\":7");
  CHECK_THROWS_WITH(load_checkpoint(with, other.net, &other.opt, nullptr, {}, &other.plateau),
                    Contains("/plateau/cooldown_counter") && Contains("must be in [0, 2], got 7"));
  edited("\"best\":0.8", "\"best\":\"much\"");
  CHECK_THROWS_WITH(load_checkpoint(with, other.net, &other.opt, nullptr, {}, &other.plateau),
                    Contains("/plateau/best") && Contains("\"much\""));
  CHECK(other.plateau.state_dict().last_epoch == before.last_epoch);
  CHECK(other.plateau.state_dict().best == before.best);
}

TEST_CASE("A ReduceLROnPlateau saved before its first step keeps an infinite best", "[checkpoint][plateau]") {
  TempDir dir;
  const std::string path = dir.file("fresh.json");
  for (const char* mode : {"min", "max"}) {
    SGD opt({{"p", zeros({2})}}, SGDOptions{.lr = 0.1});
    ReduceLROnPlateau plateau(opt, {.mode = mode});
    TinyNet net(1);
    save_checkpoint(path, net, nullptr, nullptr, {}, {}, &plateau);
    CHECK(read_text(path).find(std::string("\"best\":\"") + (mode[1] == 'i' ? "inf" : "-inf") + "\"") !=
          std::string::npos);
    ReduceLROnPlateau loaded(opt, {.mode = mode});
    loaded.load_state_dict({.best = 0.5, .last_epoch = 3});
    load_checkpoint(path, net, nullptr, nullptr, {}, &loaded);
    CHECK(loaded.state_dict().best == plateau.state_dict().best);
    CHECK(loaded.state_dict().last_epoch == 0);
  }
}

}  // namespace checkpoint_plateau_test
