// matmul, linear and the gemm kernel: values against naive loops, gradients, and errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "xgrad/core/kernels/gemm.hpp"
#include "tensor_checks.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::testing::check_close;
using xgrad::testing::check_gradients;
using xgrad::gradcheck;
using xgrad::testing::random_param;

namespace {

// c (B, M, N) = a (B, M, K) b (B or 1, K, N), in double; a shared b (batch 1) serves every batch entry.
std::vector<double> naive_matmul(const Tensor& a, const Tensor& b, std::size_t B, std::size_t M,
                                 std::size_t K, std::size_t N, bool shared_b) {
  std::vector<double> c(B * M * N, 0.0);
  for (std::size_t i = 0; i < B; ++i) {
    const float* ai = a.data() + i * M * K;
    const float* bi = b.data() + (shared_b ? 0 : i * K * N);
    for (std::size_t m = 0; m < M; ++m) {
      for (std::size_t n = 0; n < N; ++n) {
        for (std::size_t k = 0; k < K; ++k) c[(i * M + m) * N + n] += double(ai[m * K + k]) * bi[k * N + n];
      }
    }
  }
  return c;
}

// float32 products of K O(1) terms: relative error ~K * 6e-8 of the magnitude; 1e-5 absolute is ample.
constexpr double kMargin = 1e-5;

}  // namespace

// Gradient checks (check_gradients) run at gradcheck's defaults: matmul is linear in each input, so
// central differences are exact up to float32 rounding of the forward (~1e-6 relative): h = 1e-2,
// atol 1e-3, rtol 1e-2 leave a wide margin.

TEST_CASE("matmul: a hand-computed 2x2 product", "[matmul]") {
  Tensor c = matmul(Tensor{{1, 2}, {3, 4}}, Tensor{{5, 6}, {7, 8}});
  REQUIRE(c.shape() == Shape{2, 2});
  CHECK(c.to_vector() == std::vector<float>{19, 22, 43, 50});
}

TEST_CASE("matmul: the three layouts match a naive triple loop", "[matmul]") {
  Tensor a = random_param({5, 7}, 1), b = random_param({7, 3}, 2);
  Tensor c = matmul(a, b);
  CHECK(c.shape() == Shape{5, 3});
  check_close(c, naive_matmul(a, b, 1, 5, 7, 3, false), kMargin);

  Tensor ab = random_param({2, 4, 3}, 3), bb = random_param({2, 3, 5}, 4);
  Tensor cb = matmul(ab, bb);
  CHECK(cb.shape() == Shape{2, 4, 5});
  check_close(cb, naive_matmul(ab, bb, 2, 4, 3, 5, false), kMargin);

  Tensor as = random_param({3, 4, 6}, 5), bs = random_param({6, 2}, 6);
  Tensor cs = matmul(as, bs);
  CHECK(cs.shape() == Shape{3, 4, 2});
  check_close(cs, naive_matmul(as, bs, 3, 4, 6, 2, true), kMargin);
}

TEST_CASE("matmul: an empty inner dimension gives zeros", "[matmul]") {
  Tensor c = matmul(zeros({2, 0}), zeros({0, 3}));
  REQUIRE(c.shape() == Shape{2, 3});
  CHECK(c.to_vector() == std::vector<float>(6, 0.0f));
}

TEST_CASE("matmul: gradients for every layout", "[matmul][gradcheck]") {
  auto f = [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); };
  check_gradients(f, {random_param({3, 4}, 1), random_param({4, 2}, 2)});
  check_gradients(f, {random_param({2, 3, 4}, 3), random_param({2, 4, 5}, 4)});
  check_gradients(f, {random_param({3, 2, 4}, 5), random_param({4, 3}, 6)});
  // Only one side requires grad: the other gets none and the checked one is still right.
  Tensor fixed = random_param({4, 3}, 7).detach();
  Tensor a = random_param({2, 4}, 8);
  check_gradients(f, {a, fixed});
  CHECK_FALSE(fixed.grad().defined());
}

TEST_CASE("matmul: unsupported or mismatched shapes name both shapes", "[matmul][errors]") {
  CHECK_THROWS_WITH(matmul(zeros({2, 3}), zeros({4, 5})),
                    Catch::Contains("matmul") && Catch::Contains("(2, 3)") && Catch::Contains("(4, 5)"));
  CHECK_THROWS_WITH(matmul(zeros({3}), zeros({3, 2})),
                    Catch::Contains("matmul") && Catch::Contains("(3)") && Catch::Contains("not supported"));
  CHECK_THROWS_WITH(matmul(zeros({2, 3}), zeros({2, 3, 4})), Catch::Contains("(2, 3)") &&
                    Catch::Contains("(2, 3, 4)") && Catch::Contains("not supported"));
  CHECK_THROWS_WITH(matmul(zeros({2, 3, 4}), zeros({5, 4, 2})),
                    Catch::Contains("(2, 3, 4)") && Catch::Contains("(5, 4, 2)") && Catch::Contains("batch"));
}

TEST_CASE("linear: x W^T + b matches a naive loop", "[matmul][linear]") {
  Tensor x = random_param({4, 3}, 1), w = random_param({5, 3}, 2), b = random_param({5}, 3);
  Tensor y = linear(x, w, b);
  REQUIRE(y.shape() == Shape{4, 5});
  std::vector<double> want(20);
  for (std::size_t n = 0; n < 4; ++n) {
    for (std::size_t o = 0; o < 5; ++o) {
      double acc = b.data()[o];
      for (std::size_t i = 0; i < 3; ++i) acc += double(x.at({n, i})) * w.at({o, i});
      want[n * 5 + o] = acc;
    }
  }
  check_close(y, want, kMargin);
  // Without a bias it is matmul against the transposed weight.
  Tensor y0 = linear(x, w);
  for (std::size_t n = 0; n < 4; ++n) {
    for (std::size_t o = 0; o < 5; ++o) {
      CHECK(y0.at({n, o}) == Approx(want[n * 5 + o] - b.data()[o]).margin(1e-5));
    }
  }
}

TEST_CASE("linear: gradients with and without bias", "[matmul][linear][gradcheck]") {
  check_gradients([](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
             {random_param({4, 3}, 1), random_param({2, 3}, 2), random_param({2}, 3)});
  check_gradients([](const std::vector<Tensor>& in) { return linear(in[0], in[1]); },
             {random_param({3, 5}, 4), random_param({4, 5}, 5)});
}

TEST_CASE("linear: mismatched shapes are named", "[matmul][linear][errors]") {
  CHECK_THROWS_WITH(linear(zeros({4, 3}), zeros({2, 5})),
                    Catch::Contains("linear") && Catch::Contains("(4, 3)") && Catch::Contains("(2, 5)"));
  CHECK_THROWS_WITH(linear(zeros({3}), zeros({2, 3})), Catch::Contains("linear") && Catch::Contains("(3)"));
  CHECK_THROWS_WITH(linear(zeros({4, 3}), zeros({2, 3}), zeros({3})),
                    Catch::Contains("linear: bias (3)") && Catch::Contains("(2, 3)"));
}

TEST_CASE("gemm: transposes, strides, and beta = 0 ignoring NaN in C", "[matmul][kernels]") {
  // A stored (K, M) = (3, 2) read transposed; B stored (N, K) = (2, 3) read transposed; C (2, 2) inside
  // a wider row stride of 4.
  const float A[] = {1, 2, 3, 4, 5, 6};     // A^T = [[1, 3, 5], [2, 4, 6]]
  const float B[] = {1, 0, 2, 0, 1, 1};     // B^T = [[1, 0], [0, 1], [2, 1]]
  float C[] = {NAN, NAN, -7, -7, NAN, NAN, -7, -7};
  kernels::gemm(true, true, 2, 2, 3, 1.0f, A, 2, B, 3, 0.0f, C, 4);
  // A^T B^T = [[1 + 10, 3 + 5], [2 + 12, 4 + 6]]
  CHECK(std::vector<float>(C, C + 8) == std::vector<float>{11, 8, -7, -7, 14, 10, -7, -7});
  // beta = 1 accumulates, alpha scales: C += 0.5 A^T B^T.
  kernels::gemm(true, true, 2, 2, 3, 0.5f, A, 2, B, 3, 1.0f, C, 4);
  CHECK(std::vector<float>(C, C + 8) == std::vector<float>{16.5f, 12, -7, -7, 21, 15, -7, -7});
}
