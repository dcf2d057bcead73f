// The losses of issue 12 (binary_cross_entropy[_with_logits], nll_loss, l1, smooth L1, Huber, kl_div,
// cross_entropy's weight / ignore_index / label_smoothing) against values worked out in double here,
// by the formulas of torch's documentation, and by finite-difference gradient checks.
#include <catch2/catch.hpp>
#include <cmath>

#include "tensor_checks.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::testing::check_close;
using xgrad::testing::check_gradients;
using xgrad::testing::random_param;

namespace {
using Inputs = std::vector<Tensor>;
const Reduction kAll[] = {Reduction::None, Reduction::Mean, Reduction::Sum};

// The per-element reference losses reduced as `r` asks, in double; Mean divides by `divisor`.
std::vector<double> reduced(const std::vector<double>& l, Reduction r, double divisor) {
  if (r == Reduction::None) return l;
  double s = 0.0;
  for (double v : l) s += v;
  return {r == Reduction::Sum ? s : s / divisor};
}
std::vector<double> reduced(const std::vector<double>& l, Reduction r) { return reduced(l, r, double(l.size())); }

std::vector<double> as_double(const Tensor& t) { return std::vector<double>(t.data(), t.data() + t.numel()); }

// log_softmax of one row, in double.
std::vector<double> log_softmax_row(const std::vector<double>& x) {
  double m = x[0], s = 0.0;
  for (double v : x) m = std::max(m, v);
  for (double v : x) s += std::exp(v - m);
  std::vector<double> out;
  for (double v : x) out.push_back(v - m - std::log(s));
  return out;
}
}  // namespace

TEST_CASE("l1, smooth_l1 and huber losses: values for every reduction", "[loss_api]") {
  const Tensor a{0.0f, 0.5f, 3.0f, -2.0f}, b{0.2f, -0.5f, 0.0f, -2.0f};
  const std::vector<double> d = {0.2, 1.0, 3.0, 0.0};  // |a - b| in double, from the values above
  for (Reduction r : kAll) {
    std::vector<double> l1, sl1, hub;
    for (double v : d) {
      l1.push_back(v);
      const double beta = 0.5;
      sl1.push_back(v < beta ? 0.5 * v * v / beta : v - 0.5 * beta);
      const double delta = 2.0;
      hub.push_back(v < delta ? 0.5 * v * v : delta * (v - 0.5 * delta));
    }
    check_close(l1_loss(a, b, r), reduced(l1, r), 1e-6);
    check_close(smooth_l1_loss(a, b, r, 0.5f), reduced(sl1, r), 1e-6);
    check_close(huber_loss(a, b, r, 2.0f), reduced(hub, r), 1e-6);
  }
  check_close(smooth_l1_loss(a, b, Reduction::None, 0.0f), d, 1e-6);  // beta 0 is l1
  CHECK_THROWS_WITH(l1_loss(a, Tensor{1, 2}), Catch::Contains("l1_loss: shapes (4) and (2)"));
  CHECK_THROWS_WITH(huber_loss(a, b, Reduction::Mean, 0.0f), Catch::Contains("huber_loss: delta 0"));
  // Away from the kinks (d = 0 and d = beta), finite differences hold.
  Tensor p = random_param({3, 4}, 31), q = random_param({3, 4}, 32);
  check_gradients([](const Inputs& in) { return l1_loss(in[0], in[1], Reduction::None); }, {p, q});
  check_gradients([](const Inputs& in) { return smooth_l1_loss(in[0], in[1], Reduction::Sum, 0.7f); }, {p, q});
  check_gradients([](const Inputs& in) { return huber_loss(in[0], in[1], Reduction::Mean, 0.9f); }, {p, q});
}

TEST_CASE("binary_cross_entropy: values, the -100 clamp, weights and gradients", "[loss_api]") {
  const Tensor p{0.9f, 0.2f, 0.5f, 1.0f}, t{1.0f, 0.0f, 0.3f, 0.0f};
  const Tensor w{1.0f, 2.0f, 0.5f, 1.0f};
  for (Reduction r : kAll) {
    std::vector<double> l, lw;
    for (std::size_t i = 0; i < 4; ++i) {
      const double pi = p.data()[i], ti = t.data()[i];
      const double lp = std::max(std::log(pi), -100.0), lq = std::max(std::log(1.0 - pi), -100.0);
      l.push_back(-(ti * lp + (1 - ti) * lq));
      lw.push_back(l.back() * w.data()[i]);
    }
    check_close(binary_cross_entropy(p, t, Tensor(), r), reduced(l, r), 1e-5);
    check_close(binary_cross_entropy(p, t, w, r), reduced(lw, r), 1e-5);
  }
  CHECK(binary_cross_entropy(Tensor{1.0f}, Tensor{0.0f}).item() == 100.0f);  // log 0 clamped at -100
  CHECK_THROWS_WITH(binary_cross_entropy(Tensor{1.5f}, Tensor{1.0f}),
                    Catch::Contains("binary_cross_entropy: input 1.5 at index 0 is not a probability"));
  // Probabilities kept inside (0.1, 0.9), targets in [0, 1]; h = 1e-3 for the curvature of log near 0.1.
  Generator gen(5);
  Tensor probs = uniform({2, 3}, 0.1f, 0.9f, gen).set_requires_grad();
  Tensor targets = rand({2, 3}, gen).set_requires_grad();
  const testing::GradcheckOptions fine{1e-3, 1e-3, 1e-2};
  check_gradients([](const Inputs& in) { return binary_cross_entropy(in[0], in[1], Tensor(), Reduction::None); },
                  {probs, targets}, fine);
  check_gradients([](const Inputs& in) { return binary_cross_entropy(in[0], in[1], Tensor{1, 2, 3}); },
                  {probs, targets}, fine);
}

TEST_CASE("binary_cross_entropy_with_logits: stable, with weight and pos_weight", "[loss_api]") {
  const Tensor x{{2.0f, -1.0f, 0.0f}, {-40.0f, 40.0f, 0.5f}};
  const Tensor t{{1.0f, 0.0f, 0.5f}, {1.0f, 0.0f, 1.0f}};
  const Tensor pw{3.0f, 1.0f, 0.5f};
  for (Reduction r : kAll) {
    std::vector<double> l, lpw;
    for (std::size_t i = 0; i < 6; ++i) {
      const double xi = x.data()[i], ti = t.data()[i], pwi = pw.data()[i % 3];
      // log sigmoid(x) = -log(1 + e^-x), log(1 - sigmoid(x)) = -x - log(1 + e^-x), evaluated stably.
      const double log_sig = -(std::max(-xi, 0.0) + std::log1p(std::exp(-std::fabs(xi))));
      const double log_one_minus = -xi + log_sig;
      l.push_back(-(ti * log_sig + (1 - ti) * log_one_minus));
      lpw.push_back(-(pwi * ti * log_sig + (1 - ti) * log_one_minus));
    }
    check_close(binary_cross_entropy_with_logits(x, t, Tensor(), Tensor(), r), reduced(l, r), 1e-5);
    check_close(binary_cross_entropy_with_logits(x, t, Tensor(), pw, r), reduced(lpw, r), 1e-5);
  }
  // It equals binary_cross_entropy of the sigmoid where that is accurate.
  const Tensor y = Tensor{0.3f, -0.8f}, target{1.0f, 0.25f};
  check_close(binary_cross_entropy_with_logits(y, target), as_double(binary_cross_entropy(sigmoid(y), target)), 1e-6);
  CHECK_THROWS_WITH(binary_cross_entropy_with_logits(x, t, Tensor(), Tensor{1, 2}),
                    Catch::Contains("binary_cross_entropy_with_logits") && Catch::Contains("(2, 3) and (2)"));
  Tensor logits = random_param({3, 3}, 33);
  Generator gen(6);
  Tensor targets = rand({3, 3}, gen).set_requires_grad();
  check_gradients([&pw](const Inputs& in) {
    return binary_cross_entropy_with_logits(in[0], in[1], tensor({{1}, {2}, {0.5f}}), pw, Reduction::None);
  }, {logits, targets});
}

TEST_CASE("nll_loss and cross_entropy with weight, ignore_index and label_smoothing", "[loss_api]") {
  const std::vector<std::vector<double>> rows = {{1.0, 2.0, 0.5}, {0.1, -1.0, 3.0}, {2.0, 2.0, -2.0}, {0.0, 1.0, 0.0}};
  const Tensor logits = tensor({{1.0f, 2.0f, 0.5f}, {0.1f, -1.0f, 3.0f}, {2.0f, 2.0f, -2.0f}, {0.0f, 1.0f, 0.0f}});
  const Labels labels = {1, 2, -100, 0};  // the third is ignored (torch's default ignore_index)
  const std::vector<double> w = {0.5, 2.0, 1.5};
  const Tensor weight{0.5f, 2.0f, 1.5f};
  for (Reduction r : kAll) {
    for (double eps : {0.0, 0.2}) {
      // torch: (1 - eps) nll + eps / C smooth, both weighted, Mean dividing both by sum of w[label].
      std::vector<double> nll, smooth;
      double wsum = 0.0;
      for (std::size_t n = 0; n < 4; ++n) {
        const std::vector<double> lp = log_softmax_row(rows[n]);
        if (labels[n] == -100) {
          nll.push_back(0.0);
          smooth.push_back(0.0);
          continue;
        }
        nll.push_back(-w[labels[n]] * lp[labels[n]]);
        smooth.push_back(-(w[0] * lp[0] + w[1] * lp[1] + w[2] * lp[2]));
        wsum += w[labels[n]];
      }
      const std::vector<double> a = reduced(nll, r, wsum), b = reduced(smooth, r, wsum);
      std::vector<double> want;
      for (std::size_t i = 0; i < a.size(); ++i) want.push_back((1 - eps) * a[i] + eps / 3.0 * b[i]);
      const CrossEntropyOptions o{.weight = weight, .reduction = r, .label_smoothing = float(eps)};
      check_close(cross_entropy(logits, labels, o), want, 1e-5);
      if (eps == 0.0) check_close(nll_loss(log_softmax(logits, 1), labels, o), want, 1e-5);
    }
  }
  // Default options take the fused path: the same bits as the short form.
  CHECK(cross_entropy(logits, {1, 2, 0, 0}, CrossEntropyOptions{}).item() == cross_entropy(logits, {1, 2, 0, 0}).item());
  // Unweighted smoothing, ignore_index 0.
  {
    const CrossEntropyOptions o{.ignore_index = 0, .label_smoothing = 0.1f};
    double total = 0.0;
    int count = 0;
    const Labels ls = {1, 2, 0, 0};
    for (std::size_t n = 0; n < 4; ++n) {
      if (ls[n] == 0) continue;
      const std::vector<double> lp = log_softmax_row(rows[n]);
      total += 0.9 * -lp[ls[n]] + 0.1 / 3.0 * -(lp[0] + lp[1] + lp[2]);
      ++count;
    }
    check_close(cross_entropy(logits, ls, o), {total / count}, 1e-5);
  }
  CHECK_THROWS_WITH(cross_entropy(logits, {1, 2, 3, 0}, CrossEntropyOptions{.weight = weight}),
                    Catch::Contains("cross_entropy: label 3 at index 2 is outside [0, 3)"));
  CHECK_THROWS_WITH(nll_loss(logits, {1, 2, 0, 0}, {.weight = Tensor{1, 2}}),
                    Catch::Contains("nll_loss: weight of shape (2) for 3 classes"));
  CHECK_THROWS_WITH(cross_entropy(logits, {1, 2, 0, 0}, {.label_smoothing = 1.5f}),
                    Catch::Contains("label_smoothing 1.5"));
  Tensor p = random_param({4, 3}, 34);
  const CrossEntropyOptions o{.weight = weight, .label_smoothing = 0.3f};
  check_gradients([&](const Inputs& in) { return cross_entropy(in[0], labels, o); }, {p});
  check_gradients([&](const Inputs& in) {
    return nll_loss(in[0], labels, {.weight = weight, .reduction = Reduction::None});
  }, {p});
}

// Without class weights or ignored labels, label smoothing takes the fused op (log_softmax, the
// likelihood and the smoothing in one pass; its backward softmax - target): torch's values, the composed
// path's values and gradients (taken with weights of 1), and a finite-difference check.
TEST_CASE("cross_entropy's fused label smoothing agrees with torch's formula and with the composed path",
          "[loss_api]") {
  const std::vector<std::vector<double>> rows = {{1.0, 2.0, 0.5}, {0.1, -1.0, 3.0}, {2.0, 2.0, -2.0}, {0.0, 1.0, 0.0}};
  const Tensor logits = tensor({{1.0f, 2.0f, 0.5f}, {0.1f, -1.0f, 3.0f}, {2.0f, 2.0f, -2.0f}, {0.0f, 1.0f, 0.0f}});
  const Labels labels = {1, 2, 0, 0};
  for (Reduction r : kAll) {
    for (float eps : {0.1f, 0.5f, 1.0f}) {
      std::vector<double> per_row;
      for (std::size_t n = 0; n < 4; ++n) {
        const std::vector<double> lp = log_softmax_row(rows[n]);
        per_row.push_back((1 - double(eps)) * -lp[labels[n]] + double(eps) / 3.0 * -(lp[0] + lp[1] + lp[2]));
      }
      const CrossEntropyOptions fused{.reduction = r, .label_smoothing = eps};
      check_close(cross_entropy(logits, labels, fused), reduced(per_row, r), 1e-6);
      // Gradients of the summed losses: the fused backward against autograd through the composed ops.
      Tensor a = logits.clone(), b = logits.clone();
      a.set_requires_grad();
      b.set_requires_grad();
      sum(cross_entropy(a, labels, fused)).backward();
      sum(cross_entropy(b, labels, CrossEntropyOptions{.weight = Tensor{1, 1, 1}, .reduction = r,
                                                       .label_smoothing = eps}))
          .backward();
      xgrad::testing::check_same(a.grad(), b.grad(), 1e-6);
    }
  }
  Tensor p = random_param({5, 4}, 35);
  for (Reduction r : kAll) {
    const CrossEntropyOptions o{.reduction = r, .label_smoothing = 0.2f};
    check_gradients([&](const Inputs& in) { return cross_entropy(in[0], {3, 0, 1, 1, 2}, o); }, {p});
  }
}

TEST_CASE("kl_div: pointwise KL with 0 log 0 = 0, and log_target", "[loss_api]") {
  const Tensor input = log(Tensor{0.2f, 0.5f, 0.3f});
  const Tensor target{0.0f, 0.6f, 0.4f};
  for (Reduction r : kAll) {
    std::vector<double> l, llog;
    for (std::size_t i = 0; i < 3; ++i) {
      const double x = input.data()[i], t = target.data()[i];
      l.push_back(t > 0 ? t * (std::log(t) - x) : 0.0);
      const double lt = std::log(0.1 + t);  // a log-target variant
      llog.push_back(std::exp(lt) * (lt - x));
    }
    check_close(kl_div(input, target, r), reduced(l, r), 1e-6);
    check_close(kl_div(input, log(target + 0.1f), r, true), reduced(llog, r), 1e-6);
  }
  CHECK_THROWS_WITH(kl_div(input, Tensor{-0.1f, 0.5f, 0.6f}), Catch::Contains("kl_div: target -0.1 at index 0"));
  Tensor x = random_param({2, 3}, 35);
  Generator gen(7);
  Tensor t = uniform({2, 3}, 0.1f, 1.0f, gen).set_requires_grad();
  check_gradients([](const Inputs& in) { return kl_div(in[0], in[1], Reduction::Sum); }, {x, t});
  check_gradients([](const Inputs& in) { return kl_div(in[0], in[1], Reduction::None, true); }, {x, t});
}
