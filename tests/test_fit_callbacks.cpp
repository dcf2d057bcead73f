// fit's callbacks: early stopping, the CSV and JSON history, checkpoints every epoch and of the best epoch,
// a ReduceLROnPlateau stepped by fit and saved in its checkpoints (resumed exactly).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>

#include "fit_fixtures.hpp"
#include "xgrad/models/atomic_file.hpp"
#include "xgrad/training/plateau_callback.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using namespace xgrad::testing::fit_fixtures;
using Catch::Matchers::Contains;

TEST_CASE("EarlyStopping: patience and min_delta, min and max by the monitored name", "[training][callbacks]") {
  Generator gen(1);
  Dense model(2, 1, gen);
  DataLoader train(line(), {.batch_size = 16});
  SGD opt(model.named_parameters(), {.lr = 0.1});
  FitContext c{model, opt, nullptr, train, 0, 10};
  EarlyStopping loss({.monitor = "val_loss", .patience = 1, .min_delta = 0.05});
  const double values[] = {1.0, 0.9, 0.88, 0.87, 0.5};  // 0.88 and 0.87 are not 0.05 better than 0.9
  bool go = true;
  for (int e = 0; e < 5 && go; ++e) {
    c.epoch = e + 1;
    go = loss.on_epoch_end(c, {{"val_loss", values[e]}});
  }
  CHECK_FALSE(go);
  CHECK(loss.stopped_epoch() == 4);
  EarlyStopping acc({.monitor = "val_accuracy", .patience = 0});
  CHECK(acc.on_epoch_end(c, {{"val_accuracy", 0.5}}));
  CHECK(acc.on_epoch_end(c, {{"val_accuracy", 0.6}}));   // higher is better for accuracies
  CHECK_FALSE(acc.on_epoch_end(c, {{"val_accuracy", 0.6}}));
  CHECK_THROWS_WITH(EarlyStopping({.patience = -1}), "EarlyStopping: patience must be >= 0, got -1");
}

TEST_CASE("CsvLogger and ModelCheckpoint: the history file, every epoch's and the best checkpoint", "[training][callbacks]") {
  Dir dir;
  Generator gen(4);
  Dense model(2, 2, gen);
  DataLoader train(blobs(), {.batch_size = 10, .shuffle = true, .seed = 3});
  DataLoader val(blobs(), {.batch_size = 40});
  SGD opt(model.named_parameters(), {.lr = 0.3});
  auto csv = std::make_shared<CsvLogger>(dir.file("history.csv"));
  auto checkpoint = std::make_shared<ModelCheckpoint>(
      ModelCheckpointOptions{.path = dir.file("last.json"), .best_path = dir.file("best.json")});
  const auto history = fit(model, train, opt, {.epochs = 4, .validation = &val, .callbacks = {csv, checkpoint},
                                               .progress = false});
  const std::string text = read(dir.file("history.csv"));
  CHECK(text.rfind("epoch,accuracy,loss,lr,rollbacks,seconds,val_accuracy,val_loss\n1,", 0) == 0);
  CHECK(std::count(text.begin(), text.end(), '\n') == 5);
  CHECK(read_checkpoint_state(dir.file("last.json"), model).epoch == 4);
  int best = 1;
  for (int e = 2; e <= 4; ++e)
    if (history[e - 1].at("val_loss") < history[best - 1].at("val_loss")) best = e;
  CHECK(read_checkpoint_state(dir.file("best.json"), model).epoch == best);
  CHECK(checkpoint->best() == history[best - 1].at("val_loss"));
  // The last checkpoint resumes the model exactly.
  Generator other(9);
  Dense fresh(2, 2, other);
  load_weights(dir.file("last.json"), fresh);
  CHECK(fresh.named_parameters()[0].second.to_vector() == model.named_parameters()[0].second.to_vector());
  CHECK_THROWS_WITH(ModelCheckpoint(ModelCheckpointOptions{}), "ModelCheckpoint: neither path nor best_path is set");
}

TEST_CASE("JsonLogger: the history as JSON after every epoch, exact numbers, a valid file after a failed write",
          "[training][callbacks]") {
  Dir dir;
  Generator gen(4);
  Dense model(2, 2, gen);
  DataLoader train(blobs(), {.batch_size = 10, .shuffle = true, .seed = 3});
  DataLoader val(blobs(), {.batch_size = 40});
  SGD opt(model.named_parameters(), {.lr = 0.3});
  const std::string path = dir.file("history.json");
  auto json_logger = std::make_shared<JsonLogger>(path);
  std::vector<EpochLogs> seen;  // what the file held after each epoch, read back
  std::vector<std::string> texts;
  auto reader = std::make_shared<LambdaCallback>(nullptr, [&](int epoch, const EpochLogs&) {
    texts.push_back(read(path));
    const nlohmann::ordered_json j = nlohmann::ordered_json::parse(texts.back());
    REQUIRE(j.is_array());
    CHECK(j.size() == std::size_t(epoch));  // every epoch so far, rewritten whole
    EpochLogs logs;
    for (const auto& [name, value] : j.back().items()) logs[name] = value.get<double>();
    CHECK(j.back().begin().key() == "epoch");  // "epoch" first
    seen.push_back(logs);
    if (epoch == 3) {
      // The next write fails just before its rename: the file must stay the complete history of 3 epochs.
      testing::set_before_rename_hook([](const std::string&) { throw Error("injected failure"); });
    }
    return true;
  });
  std::vector<EpochLogs> history;
  CHECK_THROWS_WITH(history = fit(model, train, opt, {.epochs = 5, .validation = &val,
                                                      .callbacks = {json_logger, reader}, .progress = false}),
                    Contains("injected failure"));
  testing::set_before_rename_hook(nullptr);
  REQUIRE(seen.size() == 3);
  CHECK(read(path) == texts.back());
  CHECK(nlohmann::json::parse(read(path)).size() == 3);
  // The numbers read back bit for bit: run the same 3 epochs again and compare.
  Generator gen2(4);
  Dense model2(2, 2, gen2);
  DataLoader train2(blobs(), {.batch_size = 10, .shuffle = true, .seed = 3});
  SGD opt2(model2.named_parameters(), {.lr = 0.3});
  const auto again = fit(model2, train2, opt2, {.epochs = 3, .validation = &val, .progress = false});
  for (int e = 0; e < 3; ++e) {
    for (const auto& [name, value] : again[e]) {
      INFO("epoch " << e + 1 << ", " << name);
      if (name == "seconds") continue;  // time differs between runs
      REQUIRE(seen[e].count(name) == 1);
      CHECK(seen[e].at(name) == value);
    }
    CHECK(seen[e].size() == again[e].size());
  }
  CHECK(texts[0].rfind("[\n  {\"epoch\": 1, \"accuracy\": ", 0) == 0);
  CHECK(texts[0].substr(texts[0].size() - 4) == "}\n]\n");
  // A NaN or an infinity is null (JSON has neither); a name with a quote is escaped.
  JsonLogger odd(dir.file("odd.json"));
  FitContext context{model, opt, nullptr, train, 1, 1};
  odd.on_epoch_end(context, {{"epoch", 1}, {"val_\"q\"", std::nan("")}, {"inf", HUGE_VAL}});
  CHECK(read(dir.file("odd.json")) == "[\n  {\"epoch\": 1, \"inf\": null, \"val_\\\"q\\\"\": null}\n]\n");
  CHECK_THROWS_WITH(JsonLogger(""), "JsonLogger: the path is empty");
}

// ModelCheckpoint with a plateau: a run stopped after epoch 3 and resumed from its checkpoint into fresh
// objects ends as the uninterrupted 6-epoch run, learning rates and weights bit for bit.
TEST_CASE("ModelCheckpoint saves the ReduceLROnPlateau's state, fit resumes it exactly", "[training][callbacks]") {
  Dir dir;
  struct Run {
    Generator gen{1};
    Dense model{2, 1, gen};
    DataLoader train{line(), {.batch_size = 16, .shuffle = true, .seed = 5}};
    DataLoader val{line(7), {.batch_size = 64}};
    SGD opt{model.named_parameters(), {.lr = 0.4, .momentum = 0.9}};
    ReduceLROnPlateau plateau{opt, {.factor = 0.5, .patience = 0}};
    std::vector<EpochLogs> fit_to(int epochs, int initial_epoch, const std::string& path) {
      std::vector<std::shared_ptr<Callback>> callbacks{std::make_shared<ReduceLROnPlateauCallback>(plateau, "loss")};
      if (!path.empty()) {
        callbacks.push_back(std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{.path = path, .plateau = &plateau}));
      }
      return fit(model, train, opt, {.epochs = epochs, .initial_epoch = initial_epoch, .validation = &val,
                                     .callbacks = callbacks, .progress = false});
    }
  };
  Run straight;
  const auto whole = straight.fit_to(6, 0, "");
  Run first;
  first.fit_to(3, 0, dir.file("ckpt.json"));
  Run resumed;
  resumed.gen = Generator(99);  // other initial weights: the checkpoint must replace them
  load_checkpoint(dir.file("ckpt.json"), resumed.model, &resumed.opt, nullptr,
                  {&resumed.train.shuffle_generator(), &resumed.train.transform_generator()}, &resumed.plateau);
  CHECK(resumed.plateau.state_dict().last_epoch == 3);
  CHECK(resumed.plateau.state_dict().num_bad_epochs == first.plateau.state_dict().num_bad_epochs);
  const auto rest = resumed.fit_to(6, 3, "");
  REQUIRE(rest.size() == 3);
  bool lr_changed = false;
  for (int e = 0; e < 3; ++e) {
    CHECK(rest[e].at("lr") == whole[e + 3].at("lr"));
    CHECK(rest[e].at("loss") == whole[e + 3].at("loss"));
    lr_changed = lr_changed || whole[e + 3].at("lr") != 0.4;
  }
  CHECK(lr_changed);  // the plateau acted, so its state mattered
  CHECK(resumed.model.weight().to_vector() == straight.model.weight().to_vector());
  CHECK(resumed.plateau.state_dict().best == straight.plateau.state_dict().best);
}

TEST_CASE("ReduceLROnPlateauCallback steps the scheduler with the monitored figure", "[training][callbacks]") {
  Generator gen(1);
  Dense model(2, 1, gen);
  DataLoader train(line(), {.batch_size = 16});
  SGD opt(model.named_parameters(), {.lr = 0.1});
  ReduceLROnPlateau plateau(opt, {.factor = 0.5, .patience = 0});
  ReduceLROnPlateauCallback callback(plateau, "loss");
  FitContext c{model, opt, nullptr, train, 1, 4};
  CHECK(callback.on_epoch_end(c, {{"loss", 1.0}}));
  CHECK(opt.param_groups()[0].lr == 0.1);
  callback.on_epoch_end(c, {{"loss", 2.0}});  // worse, patience 0: halved
  CHECK(opt.param_groups()[0].lr == 0.05);
  callback.on_epoch_end(c, {{"loss", 0.5}});  // better: unchanged
  CHECK(opt.param_groups()[0].lr == 0.05);
  CHECK_THROWS_WITH(callback.on_epoch_end(c, {{"val_loss", 1.0}}),
                    Contains("ReduceLROnPlateauCallback: the logs have no 'loss' to monitor"));
  // In fit: stepped once after every epoch, with the validation loss.
  DataLoader val(line(7), {.batch_size = 64});
  ReduceLROnPlateau in_fit(opt, {.factor = 0.5, .patience = 0});
  const auto history = fit(model, train, opt,
                           {.epochs = 3, .validation = &val,
                            .callbacks = {std::make_shared<ReduceLROnPlateauCallback>(in_fit)}, .progress = false});
  CHECK(history.size() == 3);
  CHECK(in_fit.state_dict().last_epoch == 3);
  CHECK(in_fit.state_dict().best <= history[0].at("val_loss"));
}

