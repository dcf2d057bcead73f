// LambdaLR, SequentialLR (warm-up then cosine) and ReduceLROnPlateau, against sequences worked out by hand
// from PyTorch's rules.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "xgrad/xgrad.hpp"

using namespace xgrad;

namespace {

Tensor param() { return Tensor{1.0f}.set_requires_grad(); }

double lr_of(const Optimizer& opt) { return opt.param_groups()[0].lr; }

}  // namespace

TEST_CASE("LambdaLR: lr = base_lr * lr_lambda(step)", "[optim][schedule]") {
  Tensor p = param();
  SGD opt({{"p", p}}, SGDOptions{.lr = 0.1});
  LambdaLR sched(opt, [](std::int64_t step) { return std::pow(0.5, static_cast<double>(step)); }, "halving");
  CHECK(lr_of(opt) == Approx(0.1));
  for (int i = 0; i < 3; ++i) sched.step();
  CHECK(lr_of(opt) == Approx(0.0125));
  CHECK(sched.describe() == "LambdaLR(lr_lambda=halving)");
  LambdaLR negative(opt, [](std::int64_t step) { return step == 0 ? 1.0 : -1.0; }, "negative");
  CHECK_THROWS_WITH(negative.step(), Catch::Contains("LambdaLR(lr_lambda=negative): the factor at step 1 is -1"));
}

TEST_CASE("SequentialLR: linear warm-up, then cosine restarted at the milestone", "[optim][schedule]") {
  Tensor p = param();
  SGD opt({{"p", p}}, SGDOptions{.lr = 1.0});
  SequentialLR sched(opt, {linear_schedule(0.1, 1.0, 5), cosine_annealing_schedule(10)}, {5});
  // Steps 0-4: 0.1 + 0.9 s / 5; step 5: cosine's step 0 = base; 10: half; 15: eta_min.
  std::vector<double> lrs{lr_of(opt)};
  for (int i = 0; i < 15; ++i) {
    sched.step();
    lrs.push_back(lr_of(opt));
  }
  const std::vector<double> warm{0.1, 0.28, 0.46, 0.64, 0.82};
  for (std::size_t s = 0; s < warm.size(); ++s) CHECK(lrs[s] == Approx(warm[s]));
  CHECK(lrs[5] == Approx(1.0));
  CHECK(lrs[7] == Approx((1 + std::cos(M_PI * 2 / 10)) / 2));
  CHECK(lrs[10] == Approx(0.5));
  CHECK(lrs[15] == Approx(0.0).margin(1e-12));
  CHECK(sched.describe() == "SequentialLR(schedulers=[LinearLR(start_factor=0.1, end_factor=1, total_iters=5), "
                            "CosineAnnealingLR(T_max=10, eta_min=0)], milestones=[5])");

  // Resumed from its state, it continues on the same lrs.
  Tensor q = param();
  SGD opt2({{"q", q}}, SGDOptions{.lr = 1.0});
  SequentialLR again(opt2, {linear_schedule(0.1, 1.0, 5), cosine_annealing_schedule(10)}, {5});
  again.load_state_dict(SchedulerState{7, {1.0}});
  again.step();
  CHECK(lr_of(opt2) == Approx((1 + std::cos(M_PI * 3 / 10)) / 2));

  CHECK_THROWS_WITH(SequentialLR(opt, {linear_schedule(), cosine_annealing_schedule(10)}, {}),
                    Catch::Contains("SequentialLR: 2 schedules need 1 milestones, got 0"));
  CHECK_THROWS_WITH(SequentialLR(opt, {linear_schedule(), linear_schedule(), linear_schedule()}, {5, 3}),
                    Catch::Contains("milestones must increase"));
  CHECK_THROWS_WITH(SequentialLR(opt, {one_cycle_schedule(1.0, 4), linear_schedule()}, {10}),
                    Catch::Contains("ends at step 4, before milestone 10"));
}

TEST_CASE("ReduceLROnPlateau (min, rel): patience, cooldown and min_lr, step by step", "[optim][plateau]") {
  Tensor p = param();
  SGD opt({{"p", p}}, SGDOptions{.lr = 0.1});
  ReduceLROnPlateau plateau(opt, {.mode = "min", .factor = 0.5, .patience = 2, .threshold = 0.1,
                                  .cooldown = 1, .min_lr = {0.02}});
  // Better means < best * 0.9. The third bad epoch in a row reduces; the epoch after a reduction is cooldown.
  const std::vector<double> metrics{1.0, 0.95, 0.92, 0.91, 0.90, 0.95, 0.95, 0.95,
                                    0.5, 0.6,  0.6,  0.6,  0.6,  0.6,  0.6,  0.6};
  const std::vector<double> want{0.1,   0.1,   0.1,   0.05,  0.05, 0.05, 0.05, 0.025,
                                 0.025, 0.025, 0.025, 0.02,  0.02, 0.02, 0.02, 0.02};
  for (std::size_t e = 0; e < metrics.size(); ++e) {
    plateau.step(metrics[e]);
    INFO("epoch " << e + 1);
    CHECK(lr_of(opt) == Approx(want[e]));
  }
  CHECK(plateau.state_dict().best == 0.5);
  CHECK(plateau.state_dict().last_epoch == 16);
}

TEST_CASE("ReduceLROnPlateau (max, abs), NaN, state and bad options", "[optim][plateau]") {
  Tensor p = param();
  SGD opt({{"p", p}}, SGDOptions{.lr = 0.1});
  ReduceLROnPlateau plateau(opt, {.mode = "max", .patience = 0, .threshold = 0.01, .threshold_mode = "abs"});
  plateau.step(0.5);    // better than -inf
  CHECK(lr_of(opt) == Approx(0.1));
  plateau.step(0.505);  // not above 0.5 + 0.01: reduce by the default factor 0.1
  CHECK(lr_of(opt) == Approx(0.01));
  plateau.step(0.52);
  CHECK(lr_of(opt) == Approx(0.01));
  plateau.step(std::numeric_limits<double>::quiet_NaN());  // never better
  CHECK(lr_of(opt) == Approx(0.001));

  // The state carries over exactly.
  Tensor q = param();
  SGD opt2({{"q", q}}, SGDOptions{.lr = 0.001});
  ReduceLROnPlateau copy(opt2, {.mode = "max", .patience = 0, .threshold = 0.01, .threshold_mode = "abs"});
  copy.load_state_dict(plateau.state_dict());
  plateau.step(0.525);
  copy.step(0.525);  // not above 0.52 + 0.01 in either
  CHECK(lr_of(opt2) == Approx(lr_of(opt)));
  CHECK(lr_of(opt) == Approx(0.0001));
  CHECK_THROWS_WITH(copy.load_state_dict(PlateauState{.num_bad_epochs = -1}), Catch::Contains("'num_bad_epochs'"));

  CHECK_THROWS_WITH(ReduceLROnPlateau(opt, {.mode = "mean"}), Catch::Contains("mode must be 'min' or 'max'"));
  CHECK_THROWS_WITH(ReduceLROnPlateau(opt, {.factor = 1.0}), Catch::Contains("factor must be in [0, 1), got 1"));
  CHECK_THROWS_WITH(ReduceLROnPlateau(opt, {.min_lr = {0, 0}}), Catch::Contains("min_lr has 2 values for 1"));
  CHECK(ReduceLROnPlateau(opt).describe() ==
        "ReduceLROnPlateau(mode='min', factor=0.1, patience=10, threshold=1e-04, threshold_mode='rel', "
        "cooldown=0, min_lr=[0], eps=1e-08)");
}
