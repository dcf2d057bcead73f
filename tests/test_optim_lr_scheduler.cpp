// Learning-rate schedules: values worked out by hand from PyTorch's formulas, the lr they set on every
// group, exact resumption from state_dict, and errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <memory>

#include "xgrad/optim/lr_scheduler.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

namespace {

// One parameter in one group with lr = base.
struct Fixture {
  Tensor p = from_vector({1}, {1}).set_requires_grad();
  SGD opt{{{"p", p}}, SGDOptions{.lr = 1.0}};
};

// The lr of epochs 0, 1, ..., want.size() - 1. Closed forms in double: 1e-12 absorbs the last-bit
// differences between the hand decimal and the computed cos / pow.
void check_lrs(LRScheduler& s, Optimizer& opt, const std::vector<double>& want) {
  for (std::size_t epoch = 0; epoch < want.size(); ++epoch) {
    INFO(s.describe() << ", epoch " << epoch);
    CHECK(s.last_epoch() == static_cast<std::int64_t>(epoch));
    CHECK(opt.param_groups()[0].lr == Approx(want[epoch]).margin(1e-12));
    CHECK(s.get_last_lr()[0] == opt.param_groups()[0].lr);
    if (epoch + 1 < want.size()) s.step();
  }
}

}  // namespace

TEST_CASE("StepLR multiplies by gamma every step_size epochs", "[optim][lr_scheduler]") {
  Fixture f;
  StepLR s(f.opt, 2, 0.5);
  check_lrs(s, f.opt, {1, 1, 0.5, 0.5, 0.25, 0.25, 0.125});
  CHECK(s.describe() == "StepLR(step_size=2, gamma=0.5)");
}

TEST_CASE("MultiStepLR multiplies by gamma at each milestone", "[optim][lr_scheduler]") {
  Fixture f;
  MultiStepLR s(f.opt, {4, 2}, 0.1);  // unsorted on purpose
  check_lrs(s, f.opt, {1, 1, 0.1, 0.1, 0.01, 0.01});
  CHECK(s.describe() == "MultiStepLR(milestones=[2, 4], gamma=0.1)");
}

TEST_CASE("ExponentialLR multiplies by gamma every epoch", "[optim][lr_scheduler]") {
  Fixture f;
  ExponentialLR s(f.opt, 0.5);
  check_lrs(s, f.opt, {1, 0.5, 0.25, 0.125});
}

TEST_CASE("CosineAnnealingLR follows half a cosine from base lr to eta_min", "[optim][lr_scheduler]") {
  Fixture f;
  CosineAnnealingLR s(f.opt, 4, 0.1);
  // 0.1 + 0.9 * (1 + cos(pi * e / 4)) / 2: e = 1 gives 0.1 + 0.45 * (1 + sqrt(2)/2).
  const double c = std::sqrt(2.0) / 2;
  check_lrs(s, f.opt, {1, 0.1 + 0.45 * (1 + c), 0.55, 0.1 + 0.45 * (1 - c), 0.1});
}

TEST_CASE("LinearLR warms up linearly, then holds", "[optim][lr_scheduler]") {
  Fixture f;
  LinearLR s(f.opt, 0.25, 1.0, 3);
  check_lrs(s, f.opt, {0.25, 0.5, 0.75, 1, 1});
  Fixture g;
  LinearLR defaults(g.opt);  // PyTorch's: 1/3 to 1 over 5 epochs
  CHECK(g.opt.param_groups()[0].lr == Approx(1.0 / 3));
}

TEST_CASE("OneCycleLR: up to max_lr, down to max_lr / div / final_div", "[optim][lr_scheduler]") {
  // max_lr 1, 10 steps, pct_start 0.3: initial 1/25 = 0.04, min 0.04 / 1e4 = 4e-6. Phase 1 ends at step
  // 0.3 * 10 - 1 = 2, phase 2 at 9. Cosine: step 1 is halfway up, 0.04 + 0.96 / 2 = 0.52; step 2 is the peak.
  // Phase 2, step 2 + 3.5 = 5.5 would be halfway down; step 9 is the minimum.
  Fixture f;
  OneCycleLR s(f.opt, 1.0, 10);
  const double down = 4e-6 + (1 - 4e-6) * (1 + std::cos(M_PI * 3 / 7)) / 2;  // step 5: pct 3/7
  std::vector<double> lrs;
  for (int step = 0; step <= 9; ++step) {
    lrs.push_back(f.opt.param_groups()[0].lr);
    if (step < 9) s.step();
  }
  CHECK(lrs[0] == Approx(0.04));
  CHECK(lrs[1] == Approx(0.52));
  CHECK(lrs[2] == Approx(1.0));
  CHECK(lrs[5] == Approx(down));
  CHECK(lrs[9] == Approx(4e-6));
  // As in PyTorch, stepping to total_steps is allowed, past it is an error that changes nothing.
  s.step();
  CHECK_THROWS_WITH(s.step(), Catch::Contains("OneCycleLR") && Catch::Contains("step 11 is past the last step 10"));
  CHECK(s.last_epoch() == 10);

  Fixture g;
  OneCycleLR linear(g.opt, 1.0, 10, {.anneal_strategy = "linear", .three_phase = true});
  // Three phases: 0.04 -> 1 by step 2, back to 0.04 by step 4, down to 4e-6 by step 9 (linear).
  std::vector<double> l;
  for (int step = 0; step <= 9; ++step) {
    l.push_back(g.opt.param_groups()[0].lr);
    if (step < 9) linear.step();
  }
  CHECK(l[1] == Approx(0.52));
  CHECK(l[2] == Approx(1.0));
  CHECK(l[3] == Approx(0.52));
  CHECK(l[4] == Approx(0.04));
  CHECK(l[9] == Approx(4e-6));
  CHECK(l[6] == Approx(0.04 + (4e-6 - 0.04) * 2 / 5));
}

TEST_CASE("schedules scale every group from its own base lr", "[optim][lr_scheduler]") {
  Tensor a = from_vector({1}, {1}).set_requires_grad(), b = from_vector({1}, {1}).set_requires_grad();
  SGD opt(std::vector<ParamGroup>{{{{"a", a}}, 1.0, {}}, {{{"b", b}}, 0.1, {}}}, SGDOptions{});
  ExponentialLR s(opt, 0.5);
  s.step();
  CHECK(opt.param_groups()[0].lr == 0.5);
  CHECK(opt.param_groups()[1].lr == 0.05);
  CHECK(s.base_lrs() == std::vector<double>{1.0, 0.1});
}

TEST_CASE("a schedule resumed from state_dict continues exactly", "[optim][lr_scheduler]") {
  using Make = std::function<std::unique_ptr<LRScheduler>(Optimizer&)>;
  const std::vector<Make> makers = {
      [](Optimizer& o) { return std::make_unique<StepLR>(o, 3, 0.7); },
      [](Optimizer& o) { return std::make_unique<MultiStepLR>(o, std::vector<std::int64_t>{2, 5}, 0.3); },
      [](Optimizer& o) { return std::make_unique<ExponentialLR>(o, 0.9); },
      [](Optimizer& o) { return std::make_unique<CosineAnnealingLR>(o, 7, 0.01); },
      [](Optimizer& o) { return std::make_unique<LinearLR>(o, 0.1, 0.9, 4); },
      [](Optimizer& o) { return std::make_unique<OneCycleLR>(o, 0.5, 12); },
  };
  for (const Make& make : makers) {
    Fixture original, resumed;
    auto s = make(original.opt);
    for (int i = 0; i < 4; ++i) s->step();
    const SchedulerState state = s->state_dict();
    CHECK(state.last_epoch == 4);
    auto r = make(resumed.opt);
    r->load_state_dict(state);
    resumed.opt.load_state_dict(original.opt.state_dict());  // the lr itself lives in the optimizer
    for (int i = 0; i < 5; ++i) {
      s->step();
      r->step();
      INFO(s->describe() << " at epoch " << s->last_epoch());
      CHECK(resumed.opt.param_groups()[0].lr == original.opt.param_groups()[0].lr);  // bit-identical
    }
  }
}

TEST_CASE("bad schedule settings and states name the setting", "[optim][lr_scheduler][errors]") {
  Fixture f;
  CHECK_THROWS_WITH(StepLR(f.opt, 0), Catch::Contains("StepLR: step_size must be > 0, got 0"));
  CHECK_THROWS_WITH(StepLR(f.opt, 2, -1), Catch::Contains("StepLR: gamma"));
  CHECK_THROWS_WITH(MultiStepLR(f.opt, {-1}), Catch::Contains("MultiStepLR: milestones must be >= 0, got -1"));
  CHECK_THROWS_WITH(ExponentialLR(f.opt, NAN), Catch::Contains("ExponentialLR: gamma"));
  CHECK_THROWS_WITH(CosineAnnealingLR(f.opt, 0), Catch::Contains("CosineAnnealingLR: T_max must be > 0"));
  CHECK_THROWS_WITH(LinearLR(f.opt, 0.0), Catch::Contains("LinearLR: start_factor must be in (0, 1]"));
  CHECK_THROWS_WITH(LinearLR(f.opt, 0.5, 1.5), Catch::Contains("LinearLR: end_factor"));
  CHECK_THROWS_WITH(OneCycleLR(f.opt, 1.0, 10, {.anneal_strategy = "step"}),
                    Catch::Contains("anneal_strategy must be 'cos' or 'linear', got 'step'"));
  CHECK_THROWS_WITH(OneCycleLR(f.opt, 1.0, 10, {.pct_start = 0.1}), Catch::Contains("leaves a phase with no steps"));
  CHECK_THROWS_WITH(OneCycleLR(f.opt, 1.0, 0), Catch::Contains("total_steps must be > 0"));

  StepLR s(f.opt, 2);
  s.step();
  CHECK_THROWS_WITH(s.load_state_dict({-1, {1.0}}), Catch::Contains("'/last_epoch' must be >= 0, got -1"));
  CHECK_THROWS_WITH(s.load_state_dict({3, {1.0, 2.0}}), Catch::Contains("'/base_lrs' has 2 values"));
  CHECK_THROWS_WITH(s.load_state_dict({3, {NAN}}), Catch::Contains("'/base_lrs/0' must be finite"));
  CHECK(s.last_epoch() == 1);  // unchanged
  CHECK(s.base_lrs() == std::vector<double>{1.0});
  OneCycleLR cycle(f.opt, 1.0, 10);
  CHECK_THROWS_WITH(cycle.load_state_dict({11, {1.0}}), Catch::Contains("'/last_epoch' must be in [0, 10], got 11"));
}
