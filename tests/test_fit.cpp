// fit: learns a line and two blobs; the schedule stepped per batch or per epoch; user lambdas stop it; a run
// stopped inside an epoch resumes there; the NaN guard stops or rolls back, says where, sees the reduced
// (data-parallel) loss and can check the loss alone; the same seed gives the same history, bit for bit.
// The callbacks (loggers, checkpoints, early stopping, the plateau) are in test_fit_callbacks.cpp.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "fit_fixtures.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using Catch::Matchers::Contains;

using namespace xgrad::testing::fit_fixtures;

TEST_CASE("fit: a regression learns its line, validated with MSE and MAE", "[training][fit]") {
  Generator gen(1);
  Dense model(2, 1, gen);
  DataLoader train(line(), {.batch_size = 16, .shuffle = true, .seed = 1});
  DataLoader val(line(7), {.batch_size = 64});
  SGD opt(model.named_parameters(), {.lr = 0.2});
  const auto history = fit(model, train, opt,
                           {.epochs = 40, .validation = &val,
                            .metrics = {std::make_shared<MeanSquaredError>(), std::make_shared<MeanAbsoluteError>()},
                            .progress = false});
  REQUIRE(history.size() == 40);
  CHECK(history[0].at("epoch") == 1);
  CHECK(history.back().count("accuracy") == 0);  // float targets: no accuracy
  CHECK(history.back().at("loss") < 1e-4);
  CHECK(history.back().at("val_mse") < 1e-4);
  CHECK(history.back().at("val_loss") == Approx(history.back().at("val_mse")).epsilon(1e-4));
  CHECK(history.back().at("val_mae") < 1e-2);
  CHECK(history.back().at("lr") == 0.2);
}

TEST_CASE("fit: classification, schedule per batch or per epoch, the same run twice", "[training][fit]") {
  auto run = [](SchedulerStep when) {
    Generator gen(4);
    Dense model(2, 2, gen);
    DataLoader train(blobs(), {.batch_size = 10, .shuffle = true, .seed = 3});
    DataLoader val(blobs(), {.batch_size = 40});
    SGD opt(model.named_parameters(), {.lr = 0.1});
    StepLR schedule(opt, 1, 0.5);
    return fit(model, train, opt, {.epochs = 3, .scheduler = &schedule, .scheduler_step = when, .validation = &val,
                                   .progress = false});
  };
  const auto per_epoch = run(SchedulerStep::Epoch);
  CHECK(per_epoch[0].at("lr") == 0.05);
  CHECK(per_epoch[2].at("lr") == 0.0125);
  CHECK(per_epoch[2].at("val_accuracy") > 0.9);
  CHECK(per_epoch[2].at("accuracy") > 0.9);
  const auto per_batch = run(SchedulerStep::Batch);  // 4 batches an epoch
  CHECK(per_batch[0].at("lr") == 0.1 / 16);
  CHECK(per_batch[1].at("lr") == 0.1 / 256);
  const auto again = run(SchedulerStep::Epoch);
  for (std::size_t e = 0; e < 3; ++e) {
    CHECK(again[e].at("loss") == per_epoch[e].at("loss"));
    CHECK(again[e].at("val_loss") == per_epoch[e].at("val_loss"));
  }
}

TEST_CASE("fit: user lambdas stop on a step or an epoch, bad options", "[training][fit][callbacks]") {
  Generator gen(1);
  Dense model(2, 1, gen);
  DataLoader train(line(), {.batch_size = 16});
  SGD opt(model.named_parameters(), {.lr = 0.1});
  std::size_t steps = 0;
  auto on_step = std::make_shared<LambdaCallback>([&](std::size_t step, double) { return ++steps, step < 3; });
  auto history = fit(model, train, opt, {.epochs = 5, .callbacks = {on_step}, .progress = false});
  CHECK(history.size() == 1);  // the epoch ends after step 3, with its logs
  CHECK(steps == 3);
  auto on_epoch = std::make_shared<LambdaCallback>(nullptr, [](int epoch, const EpochLogs&) { return epoch < 2; });
  history = fit(model, train, opt, {.epochs = 5, .callbacks = {on_epoch}, .progress = false});
  CHECK(history.size() == 2);
  history = fit(model, train, opt, {.epochs = 5, .initial_epoch = 3, .progress = false});
  REQUIRE(history.size() == 2);
  CHECK(history[0].at("epoch") == 4);

  CHECK_THROWS_WITH(fit(model, train, opt, {.epochs = 0}), "fit: epochs must be >= 1, got 0");
  CHECK_THROWS_WITH(fit(model, train, opt, {.epochs = 2, .initial_epoch = 2}),
                    "fit: initial_epoch 2 is not in [0, epochs = 2)");
  CHECK_THROWS_WITH(fit(model, train, opt, {.rollback_lr_factor = 2}), "fit: rollback_lr_factor must be in (0, 1], got 2");
  CHECK_THROWS_WITH(fit(model, train, opt, {.callbacks = {nullptr}}), "fit: a callback is null");
  auto early = std::make_shared<EarlyStopping>(EarlyStoppingOptions{});
  CHECK_THROWS_WITH(fit(model, train, opt, {.callbacks = {early}, .progress = false}),
                    Contains("EarlyStopping: the logs have no 'val_loss' to monitor (they have: epoch, loss, lr, "
                             "rollbacks, seconds; a val_ figure needs FitOptions::validation)"));
}

// Records what fit tells its callbacks, and stops after step `stop_step` of epoch `stop_epoch` (0: never).
struct FitRecorder : Callback {
  int stop_epoch = 0;
  std::size_t stop_step = 0;
  std::vector<int> begun;                       // on_epoch_begin's epochs
  std::vector<std::size_t> steps;               // context.stats.steps at each epoch's end
  std::vector<bool> stopped;                    // context.stats.stopped
  std::array<std::uint64_t, 4> shuffle_at_begin{};  // the loader's shuffle state as the last epoch began
  void on_epoch_begin(FitContext& c) override {
    begun.push_back(c.epoch);
    shuffle_at_begin = c.train.shuffle_generator().state();
  }
  bool on_step_end(FitContext& c, std::size_t step, double) override {
    return !(c.epoch == stop_epoch && step == stop_step);
  }
  bool on_epoch_end(FitContext& c, const EpochLogs&) override {
    steps.push_back(c.stats.steps);
    stopped.push_back(c.stats.stopped);
    return true;
  }
};

TEST_CASE("fit: stopped inside an epoch and resumed there (initial_step), the same run bit for bit, the hooks",
          "[training][fit][callbacks]") {
  struct Setup {
    Generator gen{1};
    Dense model{2, 1, gen};
    DataLoader train{line(), {.batch_size = 16, .shuffle = true, .seed = 3}};  // 4 steps an epoch
    SGD opt{model.named_parameters(), {.lr = 0.1, .momentum = 0.9}};
  };
  Setup whole;
  auto all = std::make_shared<FitRecorder>();
  std::size_t backward_calls = 0, backward_samples = 0;
  FitOptions options{.epochs = 3, .callbacks = {all}, .progress = false};
  options.after_backward = [&](std::size_t n) { ++backward_calls, backward_samples += n; };
  fit(whole.model, whole.train, whole.opt, options);
  CHECK(all->begun == std::vector<int>{1, 2, 3});
  CHECK(all->steps == std::vector<std::size_t>{4, 4, 4});
  CHECK(all->stopped == std::vector<bool>{false, false, false});
  CHECK(backward_calls == 12);
  CHECK(backward_samples == 3 * 64);

  Setup first;  // stopped after step 2 of epoch 2
  auto part = std::make_shared<FitRecorder>();
  part->stop_epoch = 2;
  part->stop_step = 2;
  fit(first.model, first.train, first.opt, {.epochs = 3, .callbacks = {part}, .progress = false});
  CHECK(part->steps == std::vector<std::size_t>{4, 2});
  CHECK(part->stopped == std::vector<bool>{false, true});
  // Resumed in fresh objects: the weights and momentum after step 2, the shuffle state as epoch 2 began
  // (the same batches are drawn again and the first two skipped).
  Generator other(5);
  Dense model(2, 1, other);
  model.load_state_dict(first.model.state_dict());
  SGD opt(model.named_parameters(), {.lr = 0.1, .momentum = 0.9});
  opt.load_state_dict(first.opt.state_dict());
  DataLoader train(line(), {.batch_size = 16, .shuffle = true, .seed = 99});
  train.shuffle_generator().set_state(part->shuffle_at_begin);
  auto rest = std::make_shared<FitRecorder>();
  FitOptions resume{.epochs = 3, .initial_epoch = 1, .callbacks = {rest}, .progress = false};
  resume.initial_step = 2;
  fit(model, train, opt, resume);
  CHECK(rest->begun == std::vector<int>{2, 3});
  CHECK(rest->steps == std::vector<std::size_t>{4, 4});  // the skipped steps count
  const auto a = whole.model.state_dict(), b = model.state_dict();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].first);
    CHECK(a[i].second.to_vector() == b[i].second.to_vector());
  }
}

TEST_CASE("fit's NaN guard: stop names the step, rollback retries the epoch at a lower rate", "[training][fit][nan]") {
  {
    Generator gen(1);
    Dense model(2, 1, gen);
    DataLoader train(line(), {.batch_size = 16});
    SGD opt(model.named_parameters(), {.lr = 1e4});
    CHECK_THROWS_AS(fit(model, train, opt, {.epochs = 3, .progress = false}), NonFiniteError);
  }
  Generator gen(1);
  Dense model(2, 1, gen);
  const std::vector<float> start = model.named_parameters()[0].second.to_vector();
  DataLoader train(line(), {.batch_size = 16, .shuffle = true, .seed = 5});
  SGD opt(model.named_parameters(), {.lr = 1e4});
  const auto history = fit(model, train, opt, {.epochs = 3, .progress = false, .on_nan = OnNan::Rollback,
                                               .max_rollbacks = 8, .rollback_lr_factor = 0.1});
  REQUIRE(history.size() == 3);
  const double rollbacks = history.back().at("rollbacks");
  CHECK(rollbacks >= 1);
  CHECK(history.back().at("lr") == Approx(1e4 * std::pow(0.1, rollbacks)));
  CHECK(std::isfinite(history.back().at("loss")));
  // The same as training from the start at the final rate: the rollbacks left nothing behind.
  Generator gen2(1);
  Dense twin(2, 1, gen2);
  CHECK(twin.named_parameters()[0].second.to_vector() == start);
  DataLoader train2(line(), {.batch_size = 16, .shuffle = true, .seed = 5});
  SGD opt2(twin.named_parameters(), {.lr = history.back().at("lr")});
  const auto direct = fit(twin, train2, opt2, {.epochs = 3, .progress = false});
  if (history[0].at("rollbacks") == rollbacks) {  // all rollbacks in epoch 1: the runs must then agree exactly
    CHECK(direct.back().at("loss") == Approx(history.back().at("loss")).epsilon(1e-6));
  }
  // Too few rollbacks allowed: the error comes through.
  Generator gen3(1);
  Dense again(2, 1, gen3);
  DataLoader train3(line(), {.batch_size = 16});
  SGD opt3(again.named_parameters(), {.lr = 1e4});
  CHECK_THROWS_AS(fit(again, train3, opt3, {.epochs = 3, .progress = false, .on_nan = OnNan::Rollback,
                                            .max_rollbacks = 1}),
                  NonFiniteError);
}

TEST_CASE("fit's reduce_loss: the guard, the history and the callbacks see the reduced loss", "[training][fit][nan]") {
  auto run = [](const std::function<double(double)>& reduce, std::vector<double>& losses) {
    Generator gen(1);
    Dense model(2, 1, gen);
    DataLoader train(line(), {.batch_size = 24, .shuffle = true, .seed = 2});  // 24, 24, 16 a epoch
    SGD opt(model.named_parameters(), {.lr = 0.05});
    auto record = std::make_shared<LambdaCallback>([&](std::size_t, double loss) {
      losses.push_back(loss);
      return true;
    });
    return fit(model, train, opt, {.epochs = 2, .callbacks = {record}, .progress = false, .reduce_loss = reduce});
  };
  std::vector<double> plain, doubled;
  const auto h0 = run(nullptr, plain);
  std::size_t calls = 0;
  const auto h1 = run(
      [&](double loss) {
        ++calls;
        return 2 * loss;
      },
      doubled);
  CHECK(calls == 6);  // once a step: a collective every rank must call
  REQUIRE(plain.size() == 6);
  REQUIRE(doubled.size() == 6);
  for (std::size_t i = 0; i < 6; ++i) CHECK(doubled[i] == 2 * plain[i]);  // the weights were not touched
  CHECK(h1[1].at("loss") == 2 * h0[1].at("loss"));

  // A reduced loss that is not finite stops every rank at the same step, though the local one is finite;
  // the error says where, with the step's loss and batch size.
  for (const double bad : {std::nan(""), HUGE_VAL}) {
    std::vector<double> losses;
    calls = 0;
    try {
      run([&](double loss) { return ++calls == 6 ? bad : loss; }, losses);
      FAIL("no NonFiniteError");
    } catch (const NonFiniteError& e) {
      CHECK_THAT(e.what(), Contains("at epoch 2, step 3"));
      CHECK(e.where().epoch == 2);
      CHECK(e.where().step == 3);
      CHECK(e.where().batch_size == 16);
      CHECK((std::isnan(bad) ? std::isnan(e.where().loss) : e.where().loss == bad));
    }
    CHECK(losses.size() == 5);  // the step was not taken
  }
}

TEST_CASE("fit's finite_checks: LossOnly steps with a non-finite gradient, All stops before it", "[training][fit][nan]") {
  // after_backward writes an infinity into the first step's weight gradient; the loss stays finite.
  struct Outcome {
    bool threw = false;
    NonFiniteError::Where where;
    std::string message;
    std::vector<float> weight;
  };
  auto run = [](FiniteChecks checks, std::size_t batch_size) {
    Generator gen(1);
    Dense model(2, 1, gen);
    DataLoader train(line(), {.batch_size = batch_size});
    SGD opt(model.named_parameters(), {.lr = 0.05});
    const Tensor weight = model.named_parameters()[0].second;
    std::size_t steps = 0;
    FitOptions o{.epochs = 1, .progress = false, .finite_checks = checks};
    o.after_backward = [&](std::size_t) {
      if (steps++ == 0) weight.grad().data()[0] = HUGE_VALF;
    };
    Outcome out;
    try {
      fit(model, train, opt, o);
    } catch (const NonFiniteError& e) {
      out = {true, e.where(), e.what(), {}};
    }
    out.weight = weight.to_vector();
    return out;
  };
  const Outcome all = run(FiniteChecks::All, 16);
  REQUIRE(all.threw);
  CHECK_THAT(all.message, Contains("the gradient of") && Contains("step 1"));
  CHECK(all.where.step == 1);
  CHECK(std::isfinite(all.where.loss));
  CHECK(all_finite(all.weight.data(), all.weight.size()));  // the step was not taken
  // LossOnly: the step is taken, the weight becomes infinite and the next step's loss ends the epoch.
  const Outcome loss_only = run(FiniteChecks::LossOnly, 16);
  REQUIRE(loss_only.threw);
  CHECK_THAT(loss_only.message, Contains("the loss is") && Contains("step 2"));
  CHECK(loss_only.where.step == 2);
  CHECK(!std::isfinite(loss_only.where.loss));
  CHECK(!all_finite(loss_only.weight.data(), loss_only.weight.size()));
  // One step an epoch: LossOnly leaves the weights unchecked at the epoch's end; All throws there.
  const Outcome single = run(FiniteChecks::LossOnly, 64);
  CHECK(!single.threw);
  CHECK(!all_finite(single.weight.data(), single.weight.size()));
  CHECK(run(FiniteChecks::All, 64).threw);
}
