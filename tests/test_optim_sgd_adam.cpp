// SGD, Adam and AdamW: update sequences against values worked out by hand and against an independent
// double-precision transcription of PyTorch's documented algorithms; groups, skipping, state and errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

namespace {

Tensor leaf(const std::vector<float>& values) {
  return from_vector(values, {values.size()}).set_requires_grad();
}

// Sets p's gradient to exactly g: zero_grad keeps the buffer at 0, and a leaf's backward adds g to it.
void set_grad(Tensor& p, const std::vector<float>& g) {
  p.zero_grad();
  p.backward(from_vector(g, p.shape()));
}

// Runs `steps` steps with the constant gradient g on one parameter starting at p0; returns the values.
template <class Opt, class Options>
std::vector<float> run(const std::vector<float>& p0, const std::vector<float>& g, Options options, int steps) {
  Tensor p = leaf(p0);
  Opt opt({{"p", p}}, options);
  std::vector<float> trace;
  for (int t = 0; t < steps; ++t) {
    set_grad(p, g);
    opt.step();
    trace.push_back(p.to_vector()[0]);
  }
  return trace;
}

// The hand values below are exact decimals; the optimizer works in float32, one rounding (2^-24 relative)
// per operation and a handful of operations per step, so 1e-6 relative is a generous but telling bound.
void check_trace(const std::vector<float>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("step " << i + 1);
    CHECK(got[i] == Approx(want[i]).epsilon(1e-6));
  }
}

// PyTorch's SGD algorithm, transcribed in double.
struct RefSGD {
  double lr, momentum, dampening, weight_decay;
  bool nesterov;
  std::vector<double> b;
  void step(std::vector<double>& p, const std::vector<double>& grad) {
    const bool first = b.empty();
    if (first) b.resize(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
      double g = grad[i] + weight_decay * p[i];
      if (momentum != 0) {
        b[i] = first ? g : momentum * b[i] + (1 - dampening) * g;
        g = nesterov ? g + momentum * b[i] : b[i];
      }
      p[i] -= lr * g;
    }
  }
};

// PyTorch's Adam / AdamW algorithm, transcribed in double.
struct RefAdam {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled, amsgrad;
  std::vector<double> m, v, v_max;
  int t = 0;
  void step(std::vector<double>& p, const std::vector<double>& grad) {
    if (m.empty()) m = v = v_max = std::vector<double>(p.size(), 0.0);
    ++t;
    for (std::size_t i = 0; i < p.size(); ++i) {
      double g = grad[i];
      if (decoupled) p[i] *= 1 - lr * weight_decay;
      else g += weight_decay * p[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      v_max[i] = std::max(v_max[i], v[i]);
      const double m_hat = m[i] / (1 - std::pow(beta1, t));
      const double v_hat = (amsgrad ? v_max[i] : v[i]) / (1 - std::pow(beta2, t));
      p[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
  }
};

std::vector<std::vector<float>> random_grads(int steps, std::size_t n, std::uint64_t seed) {
  Generator gen(seed);
  std::vector<std::vector<float>> grads;
  for (int t = 0; t < steps; ++t) grads.push_back(randn({n}, gen).to_vector());
  return grads;
}

// Runs an optimizer and a reference on the same random gradients; compares after every step. Errors
// compound over steps through the state, so the bound is 1e-5 relative (with 1e-6 absolute for values
// that pass near zero); a wrong rule (a missing bias correction, a swapped beta) is off by far more.
template <class Opt, class Options, class Ref>
void compare_with_reference(Options options, Ref ref, int steps = 8) {
  const std::size_t n = 6;
  Generator gen(7);
  Tensor p = randn({n}, gen).set_requires_grad();
  std::vector<double> p_ref;
  for (float x : p.to_vector()) p_ref.push_back(x);
  Opt opt({{"p", p}}, options);
  const auto grads = random_grads(steps, n, 11);
  for (int t = 0; t < steps; ++t) {
    set_grad(p, grads[t]);
    opt.step();
    ref.step(p_ref, std::vector<double>(grads[t].begin(), grads[t].end()));
    const std::vector<float> got = p.to_vector();
    for (std::size_t i = 0; i < n; ++i) {
      INFO("step " << t + 1 << ", element " << i);
      CHECK(got[i] == Approx(p_ref[i]).epsilon(1e-5).margin(1e-6));
    }
  }
}

}  // namespace

TEST_CASE("SGD without momentum: p -= lr * g", "[optim][sgd]") {
  // p = 1, g = 0.5, lr = 0.1: 0.95, 0.9, 0.85.
  check_trace(run<SGD>({1}, {0.5f}, SGDOptions{.lr = 0.1}, 3), {0.95, 0.9, 0.85});
}

TEST_CASE("SGD momentum: the buffer starts as the first gradient", "[optim][sgd]") {
  // g = 1, lr = 0.1, momentum 0.9: b = 1, 1.9, 2.71; p = 0.9, 0.71, 0.439.
  check_trace(run<SGD>({1}, {1}, SGDOptions{.lr = 0.1, .momentum = 0.9}, 3), {0.9, 0.71, 0.439});
}

TEST_CASE("SGD dampening scales the new gradient from the second step on", "[optim][sgd]") {
  // dampening 0.5: b = 1 (undamped), 0.9 + 0.5 = 1.4, 1.26 + 0.5 = 1.76; p = 0.9, 0.76, 0.584.
  check_trace(run<SGD>({1}, {1}, SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.5}, 3),
              {0.9, 0.76, 0.584});
}

TEST_CASE("SGD Nesterov: steps along g + momentum * b", "[optim][sgd]") {
  // b = 1, 1.9, 2.71; g + 0.9 b = 1.9, 2.71, 3.439; p = 0.81, 0.539, 0.1951.
  check_trace(run<SGD>({1}, {1}, SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true}, 3),
              {0.81, 0.539, 0.1951});
}

TEST_CASE("SGD weight decay adds weight_decay * p to the gradient", "[optim][sgd]") {
  // g = 0, weight_decay 0.1, lr 0.1: p *= 0.99 each step.
  check_trace(run<SGD>({1}, {0}, SGDOptions{.lr = 0.1, .weight_decay = 0.1}, 3), {0.99, 0.9801, 0.970299});
}

TEST_CASE("SGD with every option matches the documented algorithm over several steps", "[optim][sgd]") {
  compare_with_reference<SGD>(SGDOptions{.lr = 0.05, .momentum = 0.8, .dampening = 0.3, .weight_decay = 0.01},
                              RefSGD{0.05, 0.8, 0.3, 0.01, false, {}});
  compare_with_reference<SGD>(SGDOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 0.02, .nesterov = true},
                              RefSGD{0.05, 0.9, 0.0, 0.02, true, {}});
}

TEST_CASE("Adam: bias correction makes a constant gradient step by lr", "[optim][adam]") {
  // With g constant, m_hat = g and v_hat = g^2 exactly, so each step moves lr * g / (|g| + eps) ~ 0.1.
  check_trace(run<Adam>({1}, {0.5f}, AdamOptions{.lr = 0.1}, 3), {0.9, 0.8, 0.7});
}

TEST_CASE("Adam: two steps with opposite gradients, by hand", "[optim][adam]") {
  // g = 1 then -1, lr 0.1, betas (0.9, 0.999):
  // step 1: m = 0.1, v = 0.001, m_hat = 1, v_hat = 1: p = 1 - 0.1 = 0.9.
  // step 2: m = 0.09 - 0.1 = -0.01, v = 0.000999 + 0.001 = 0.001999; m_hat = -0.01 / 0.19 = -1/19,
  //         v_hat = 0.001999 / 0.001999 = 1: p = 0.9 + 0.1 / 19 = 0.905263157894...
  Tensor p = leaf({1});
  Adam opt({{"p", p}}, AdamOptions{.lr = 0.1});
  set_grad(p, {1});
  opt.step();
  CHECK(p.item() == Approx(0.9).epsilon(1e-6));
  set_grad(p, {-1});
  opt.step();
  CHECK(p.item() == Approx(0.9 + 0.1 / 19).epsilon(1e-6));
}

TEST_CASE("Adam adds weight decay to the gradient, AdamW decays the weight", "[optim][adam]") {
  // g = 0, weight_decay 0.1, lr 0.1, one step from p = 1.
  // Adam: g' = 0.1, so the step is lr * sign = 0.1: p = 0.9.
  // AdamW: p = 1 * (1 - 0.01) = 0.99, then m = v = 0 and the Adam step is 0: p = 0.99.
  check_trace(run<Adam>({1}, {0}, AdamOptions{.lr = 0.1, .weight_decay = 0.1}, 1), {0.9});
  check_trace(run<AdamW>({1}, {0}, AdamWOptions{.lr = 0.1, .weight_decay = 0.1}, 1), {0.99});
  // AdamW's default weight decay is PyTorch's 1e-2: p = 1 - 0.1 * 0.01.
  check_trace(run<AdamW>({1}, {0}, AdamWOptions{.lr = 0.1}, 1), {0.999});
}

TEST_CASE("AMSGrad divides by the largest second moment seen", "[optim][adam]") {
  // g = 1 then 0: v = 0.001 then 0.000999, so v_max stays 0.001 on step 2. Step 2, m = 0.09,
  // m_hat = 0.09 / 0.19; v_hat = v / 0.001999. Without AMSGrad the denominator is sqrt(0.000999/0.001999),
  // with it sqrt(0.001/0.001999): the AMSGrad step is smaller.
  const double m_hat = 0.09 / 0.19;
  const double plain = 0.9 - 0.1 * m_hat / (std::sqrt(0.000999 / 0.001999) + 1e-8);
  const double ams = 0.9 - 0.1 * m_hat / (std::sqrt(0.001 / 0.001999) + 1e-8);
  for (bool amsgrad : {false, true}) {
    Tensor p = leaf({1});
    Adam opt({{"p", p}}, AdamOptions{.lr = 0.1, .amsgrad = amsgrad});
    set_grad(p, {1});
    opt.step();
    set_grad(p, {0});
    opt.step();
    CHECK(p.item() == Approx(amsgrad ? ams : plain).epsilon(1e-6));
  }
  CHECK(ams > plain);
}

TEST_CASE("Adam and AdamW with every option match the documented algorithm over several steps",
          "[optim][adam]") {
  compare_with_reference<Adam>(AdamOptions{.lr = 0.01, .betas = {0.8, 0.99}, .eps = 1e-6, .weight_decay = 0.05},
                               RefAdam{0.01, 0.8, 0.99, 1e-6, 0.05, false, false, {}, {}, {}});
  compare_with_reference<Adam>(AdamOptions{.lr = 0.01, .weight_decay = 0.05, .amsgrad = true},
                               RefAdam{0.01, 0.9, 0.999, 1e-8, 0.05, false, true, {}, {}, {}});
  compare_with_reference<AdamW>(AdamWOptions{.lr = 0.01, .betas = {0.85, 0.995}, .weight_decay = 0.1},
                                RefAdam{0.01, 0.85, 0.995, 1e-8, 0.1, true, false, {}, {}, {}});
  compare_with_reference<AdamW>(AdamWOptions{.lr = 0.01, .amsgrad = true},
                                RefAdam{0.01, 0.9, 0.999, 1e-8, 0.01, true, true, {}, {}, {}});
}

TEST_CASE("parameter groups have their own lr and weight decay", "[optim]") {
  Tensor a = leaf({1}), b = leaf({1});
  SGD opt(std::vector<ParamGroup>{{{{"a", a}}, 0.5, {}}, {{{"b", b}}, {}, 0.1}}, SGDOptions{.lr = 0.1});
  REQUIRE(opt.param_groups().size() == 2);
  CHECK(opt.param_groups()[0].lr == 0.5);
  CHECK(opt.param_groups()[0].weight_decay == 0.0);
  CHECK(opt.param_groups()[1].lr == 0.1);
  CHECK(opt.param_groups()[1].weight_decay == 0.1);
  set_grad(a, {1});
  set_grad(b, {1});
  opt.step();
  CHECK(a.item() == Approx(0.5).epsilon(1e-6));          // 1 - 0.5 * 1
  CHECK(b.item() == Approx(1 - 0.1 * 1.1).epsilon(1e-6));  // 1 - 0.1 * (1 + 0.1 * 1)
  opt.set_lr(1, 0.2);
  CHECK(opt.param_groups()[1].lr == 0.2);
}

TEST_CASE("parameters without a gradient are skipped and get no state", "[optim]") {
  Tensor a = leaf({1, 2}), b = leaf({3});
  Adam opt({{"a", a}, {"b", b}}, AdamOptions{.lr = 0.1});
  set_grad(a, {1, 1});
  opt.step();
  CHECK(b.to_vector() == std::vector<float>{3});
  const OptimizerState s = opt.state_dict();
  REQUIRE(s.state.size() == 1);
  const ParamState& state = s.state.at("a");  // keyed by name
  CHECK(state.step == 1);
  CHECK(state.buffers.size() == 2);
  CHECK(state.buffers.at("exp_avg").to_vector() == std::vector<float>{0.1f, 0.1f});
  // zero_grad fills zeros in place; the next step then sees g = 0.
  opt.zero_grad();
  CHECK(a.grad().to_vector() == std::vector<float>{0, 0});
  CHECK_FALSE(b.grad().defined());
}

TEST_CASE("state_dict is a copy, and load_state_dict restores steps, moments and lrs", "[optim]") {
  Tensor p = leaf({1, -1});
  Adam opt({{"p", p}}, AdamOptions{.lr = 0.1});
  set_grad(p, {0.3f, -0.7f});
  opt.step();
  const OptimizerState saved = opt.state_dict();
  const std::vector<float> p_saved = p.to_vector();
  opt.step();
  CHECK(saved.state.at("p").step == 1);  // not changed by the later step

  // A fresh optimizer loaded from the copy continues exactly like the original.
  Tensor q = from_vector(p_saved, {2}).set_requires_grad();
  Adam fresh({{"p", q}}, AdamOptions{.lr = 0.5});
  OptimizerState with_lr = saved;
  with_lr.param_groups[0].lr = 0.1;
  fresh.load_state_dict(with_lr);
  CHECK(fresh.param_groups()[0].lr == 0.1);
  set_grad(q, {0.3f, -0.7f});
  fresh.step();
  CHECK(q.to_vector() == p.to_vector());
}

TEST_CASE("load_state_dict rejects a mismatched state and changes nothing", "[optim][errors]") {
  Tensor p = leaf({1, 2});
  SGD opt({{"p", p}}, SGDOptions{.lr = 0.1, .momentum = 0.9});
  set_grad(p, {1, 1});
  opt.step();
  const OptimizerState good = opt.state_dict();

  OptimizerState bad = good;
  bad.state["q"] = good.state.at("p");
  CHECK_THROWS_WITH(opt.load_state_dict(bad), Catch::Contains("SGD") && Catch::Contains("'/state/q'") &&
                                                  Catch::Contains("no parameter"));
  bad = good;
  bad.state["p"].buffers["momentum_buffer"] = zeros({3});
  CHECK_THROWS_WITH(opt.load_state_dict(bad),
                    Catch::Contains("'/state/p/momentum_buffer/shape'") && Catch::Contains("(3)") &&
                        Catch::Contains("(2)"));
  bad = good;
  bad.state["p"].buffers.erase("momentum_buffer");
  CHECK_THROWS_WITH(opt.load_state_dict(bad), Catch::Contains("'/state/p/momentum_buffer' is missing"));
  bad = good;
  bad.state["p"].buffers["exp_avg"] = zeros({2});
  CHECK_THROWS_WITH(opt.load_state_dict(bad), Catch::Contains("'/state/p/exp_avg'") &&
                                                  Catch::Contains("(momentum_buffer)"));
  bad = good;
  bad.state["p"].step = 0;
  CHECK_THROWS_WITH(opt.load_state_dict(bad), Catch::Contains("'/state/p/step' must be >= 1"));
  bad = good;
  bad.param_groups[0].params = {"x"};
  CHECK_THROWS_WITH(opt.load_state_dict(bad), Catch::Contains("'/param_groups/0/params'") &&
                                                  Catch::Contains("(x)") && Catch::Contains("(p)"));
  bad = good;
  bad.param_groups[0].lr = -1;
  CHECK_THROWS_WITH(opt.load_state_dict(bad), Catch::Contains("'/param_groups/0/lr'"));
  bad = good;
  bad.param_groups.push_back(bad.param_groups[0]);
  CHECK_THROWS_WITH(opt.load_state_dict(bad), Catch::Contains("'/param_groups' has 2 groups"));

  // Nothing changed: the state is still the one saved, the lr still 0.1.
  const OptimizerState after = opt.state_dict();
  CHECK(after.state.at("p").buffers.at("momentum_buffer").to_vector() ==
        good.state.at("p").buffers.at("momentum_buffer").to_vector());
  CHECK(after.param_groups[0].lr == 0.1);
}

TEST_CASE("bad optimizer options name the option and the value", "[optim][errors]") {
  Tensor p = leaf({1});
  CHECK_THROWS_WITH(SGD({{"p", p}}, SGDOptions{.lr = -0.1}), Catch::Contains("SGD: lr") && Catch::Contains("-0.1"));
  CHECK_THROWS_WITH(SGD({{"p", p}}, SGDOptions{.momentum = -1}), Catch::Contains("SGD: momentum"));
  CHECK_THROWS_WITH(SGD({{"p", p}}, SGDOptions{.dampening = 2}), Catch::Contains("SGD: dampening"));
  CHECK_THROWS_WITH(SGD({{"p", p}}, SGDOptions{.nesterov = true}),
                    Catch::Contains("nesterov needs momentum > 0"));
  CHECK_THROWS_WITH(SGD({{"p", p}}, SGDOptions{.weight_decay = NAN}), Catch::Contains("SGD: weight_decay"));
  CHECK_THROWS_WITH(Adam({{"p", p}}, AdamOptions{.betas = {1.0, 0.999}}),
                    Catch::Contains("Adam: betas.first") && Catch::Contains("[0, 1)"));
  CHECK_THROWS_WITH(AdamW({{"p", p}}, AdamWOptions{.eps = -1}), Catch::Contains("AdamW: eps"));
  CHECK_THROWS_WITH(SGD(std::vector<NamedTensor>{}, SGDOptions{}), Catch::Contains("empty parameter list"));
  CHECK_THROWS_WITH(SGD({{"p", p}, {"p", p}}, SGDOptions{}), Catch::Contains("'p' is given twice"));
  SGD opt({{"p", p}}, SGDOptions{});
  CHECK_THROWS_WITH(opt.set_lr(1, 0.1), Catch::Contains("set_lr: group 1 of 1"));
  CHECK_THROWS_WITH(opt.set_lr(0, INFINITY), Catch::Contains("SGD: lr"));
}
