// cross_entropy and mse_loss: values against direct double-precision computations, the fused gradient,
// gradient checks for every reduction, and errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "gradcheck.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::gradcheck;
using xgrad::testing::random_param;

namespace {


// -log(softmax(row)[label]) computed the naive way, in double (fine for O(1) logits).
double naive_nll(const Tensor& logits, std::size_t n, std::int32_t label) {
  const std::size_t C = logits.size(1);
  double total = 0.0;
  for (std::size_t c = 0; c < C; ++c) total += std::exp(double(logits.at({n, c})));
  return -std::log(std::exp(double(logits.at({n, static_cast<std::size_t>(label)}))) / total);
}

void check_grad(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& in) {
  // Smooth O(1) losses: truncation h^2 f''' / 6 ~ 1e-5 and float32 rounding ~1e-6 / h = 1e-4 with h = 1e-2,
  // within the defaults atol 1e-3, rtol 1e-2.
  auto r = gradcheck(f, in);
  INFO(r.message);
  CHECK(r.ok);
}

const Reduction all_reductions[] = {Reduction::Mean, Reduction::Sum, Reduction::None};

}  // namespace

TEST_CASE("cross_entropy: matches a direct log of softmax for every reduction", "[loss]") {
  Tensor logits = random_param({5, 4}, 1).detach();
  const Labels labels = {0, 3, 1, 1, 2};
  std::vector<double> per(5);
  double total = 0.0;
  for (std::size_t n = 0; n < 5; ++n) total += per[n] = naive_nll(logits, n, labels[n]);

  Tensor none = cross_entropy(logits, labels, Reduction::None);
  REQUIRE(none.shape() == Shape{5});
  for (std::size_t n = 0; n < 5; ++n) CHECK(none.at({n}) == Approx(per[n]).epsilon(1e-6));
  Tensor sum = cross_entropy(logits, labels, Reduction::Sum);
  CHECK(sum.dim() == 0);
  CHECK(sum.item() == Approx(total).epsilon(1e-6));
  CHECK(cross_entropy(logits, labels).item() == Approx(total / 5).epsilon(1e-6));  // Mean is the default
}

TEST_CASE("cross_entropy: large logits do not overflow", "[loss]") {
  // log(1 + e^-1) from Python; a naive exp(1001) would be inf.
  CHECK(cross_entropy(Tensor{{1000.0f, 1001.0f}}, {1}).item() == Approx(0.31326168751822286).epsilon(1e-6));
  CHECK(cross_entropy(Tensor{{1000.0f, 0.0f}}, {1}).item() == Approx(1000.0).epsilon(1e-7));
  CHECK(cross_entropy(Tensor{{-1000.0f, 0.0f}}, {1}).item() == 0.0f);
}

TEST_CASE("cross_entropy: the gradient is (softmax - onehot) / N", "[loss]") {
  Tensor logits = random_param({3, 4}, 2);
  const Labels labels = {2, 0, 3};
  cross_entropy(logits, labels).backward();
  for (std::size_t n = 0; n < 3; ++n) {
    double total = 0.0;
    for (std::size_t c = 0; c < 4; ++c) total += std::exp(double(logits.at({n, c})));
    for (std::size_t c = 0; c < 4; ++c) {
      const double p = std::exp(double(logits.at({n, c}))) / total;
      const double want = (p - (labels[n] == static_cast<std::int32_t>(c) ? 1.0 : 0.0)) / 3.0;
      CHECK(logits.grad().at({n, c}) == Approx(want).margin(1e-7));
    }
  }
}

TEST_CASE("cross_entropy: gradients for every reduction", "[loss][gradcheck]") {
  for (Reduction reduction : all_reductions) {
    INFO("reduction " << static_cast<int>(reduction));
    check_grad(
        [reduction](const std::vector<Tensor>& in) { return cross_entropy(in[0], {1, 0, 4, 2}, reduction); },
        {random_param({4, 5}, 3)});
  }
}

TEST_CASE("cross_entropy: bad shapes and labels are named", "[loss][errors]") {
  Tensor logits = zeros({4, 10});
  CHECK_THROWS_WITH(cross_entropy(logits, {1, 2, 12, 3}),
                    "cross_entropy: label 12 at index 2 is outside [0, 10) for logits of shape (4, 10)");
  CHECK_THROWS_WITH(cross_entropy(logits, {-1, 2, 3, 3}), Catch::Contains("label -1 at index 0"));
  CHECK_THROWS_WITH(cross_entropy(logits, {1, 2, 3}), "cross_entropy: 3 labels for logits of shape (4, 10)");
  CHECK_THROWS_WITH(cross_entropy(zeros({10}), {1}), "cross_entropy: logits must be (N, C), got shape (10)");
}

TEST_CASE("mse_loss: hand-computed values for every reduction", "[loss]") {
  Tensor a{1.0f, 2.0f, 3.0f}, b{1.0f, 0.0f, 0.0f};
  CHECK(mse_loss(a, b).item() == Approx(13.0 / 3.0).epsilon(1e-7));
  CHECK(mse_loss(a, b, Reduction::Sum).item() == 13.0f);
  Tensor none =
      mse_loss(Tensor{{1.0f, 2.0f}, {3.0f, 4.0f}}, Tensor{{0.0f, 0.0f}, {5.0f, 4.5f}}, Reduction::None);
  REQUIRE(none.shape() == Shape{2, 2});
  CHECK(none.to_vector() == std::vector<float>{1.0f, 4.0f, 4.0f, 0.25f});
}

TEST_CASE("mse_loss: gradients for both inputs and every reduction", "[loss][gradcheck]") {
  for (Reduction reduction : all_reductions) {
    INFO("reduction " << static_cast<int>(reduction));
    check_grad([reduction](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1], reduction); },
               {random_param({3, 4}, 4), random_param({3, 4}, 5)});
  }
  // A target that does not require grad gets none.
  Tensor target = random_param({2, 2}, 6).detach();
  check_grad([target](const std::vector<Tensor>& in) { return mse_loss(in[0], target); }, {random_param({2, 2}, 7)});
  CHECK_FALSE(target.grad().defined());
}

TEST_CASE("mse_loss: different shapes are named", "[loss][errors]") {
  CHECK_THROWS_WITH(mse_loss(zeros({2, 3}), zeros({3, 2})),
                    "mse_loss: shapes (2, 3) and (3, 2) must be equal");
  CHECK_THROWS_WITH(mse_loss(zeros({2, 3}), zeros({3})), Catch::Contains("(2, 3)") && Catch::Contains("(3)"));
}
