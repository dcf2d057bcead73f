// BatchNorm + ReLU + 2x2 max pool as one op (batch_norm_relu_max_pool2d): bit for bit the values and
// gradients of batch_norm with the relu extra followed by max_pool2d, on each kernel path (portable loops
// and AVX-512), training and inference, with and without affine weights, across pieces and tails of the
// AVX-512 loops, with ties and NaN; the two twins agree; finite differences; bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "xgrad/core/kernels/cpu_features.hpp"
#include "xgrad/core/kernels/dispatch.hpp"
#include "xgrad/core/ops/batch_norm.hpp"
#include "xgrad/core/ops/conv_pool.hpp"
#include "xgrad/core/tensor_impl.hpp"
#include "fast_paths.hpp"
#include "skip.hpp"
#include "tensor_checks.hpp"

using namespace xgrad;
using namespace xgrad::testing;

// A named namespace: the kernel tests are compiled ten files to a unit (unity build).
namespace bn_pool_test {

struct Case {
  Shape shape;
  bool training, affine;
  bool nan;  // one NaN in the input (in training it takes its whole channel's statistics)
};

struct Result {
  std::vector<float> out, dx, dgamma, dbeta, running_mean, running_var;
  std::string op;
};

// The input: normal values, then exact ties inside windows (equal values, equal outputs) and a NaN if asked.
Tensor input(const Case& c, std::uint64_t seed) {
  Generator gen(seed);
  Tensor x = randn(c.shape, gen);
  float* v = x.data();
  const std::size_t W = c.shape[3];
  for (std::size_t i = 0; i + W + 1 < x.numel(); i += 7 * W + 6) v[i + 1] = v[i + W] = v[i];
  if (c.nan) v[x.numel() / 3] = std::nanf("");
  return x;
}

// pooled = f(x, running_mean, running_var, weight, bias), then backward with upstream u.
template <class F>
Result run(const Case& c, F&& f) {
  const std::size_t C = c.shape[1];
  Tensor x = input(c, 11).set_requires_grad();
  Tensor w, b;
  if (c.affine) {
    w = random_param({C}, 12);
    b = random_param({C}, 13);
  }
  Tensor rm = zeros({C}), rv = ones({C});
  randomize(rm, 14);
  rv.data()[0] = 0.25f;
  Tensor out = f(x, rm, rv, w, b);
  Generator gen(15);
  const Tensor u = randn(out.shape(), gen);
  out.backward(u);
  Result r{out.to_vector(), x.grad().to_vector(), {}, {}, rm.to_vector(), rv.to_vector(),
           out.impl()->grad_fn ? out.impl()->grad_fn->op : "(leaf)"};
  if (c.affine) {
    r.dgamma = w.grad().to_vector();
    r.dbeta = b.grad().to_vector();
  }
  return r;
}

Result fused(const Case& c) {
  return run(c, [&](const Tensor& x, const Tensor& rm, const Tensor& rv, const Tensor& w, const Tensor& b) {
    return batch_norm_relu_max_pool2d(x, rm, rv, w, b, c.training, 0.1f, 1e-5f);
  });
}

Result apart(const Case& c) {
  return run(c, [&](const Tensor& x, const Tensor& rm, const Tensor& rv, const Tensor& w, const Tensor& b) {
    return max_pool2d(batch_norm(x, rm, rv, w, b, c.training, 0.1f, 1e-5f, {.relu = true}), 2);
  });
}

// Shapes: one window; planes of a few 8-lane chunks with a tail (HW = 204) and an odd number of 16-output
// chunks (OW = 17); planes of three AVX-512 backward pieces (8, 8 and 3 window rows), with a tail (HW = 7676);
// rows longer than the portable loops' 1024-value segments (which the AVX-512 path leaves to the portable
// twin: compared on the portable path only).
std::vector<Case> cases() {
  std::vector<Case> out;
  for (const Shape& s : {Shape{3, 2, 2, 2}, Shape{2, 3, 6, 34}, Shape{2, 2, 38, 202}, Shape{4, 3, 4, 6},
                         Shape{2, 2, 2, 2052}}) {
    for (bool training : {true, false}) {
      for (bool affine : {true, false}) out.push_back({s, training, affine, false});
    }
  }
  out.push_back({Shape{2, 3, 6, 34}, false, true, true});
  out.push_back({Shape{2, 3, 6, 34}, true, true, true});
  return out;
}

void check_fused_against_apart(bool fast) {
  FastPaths paths(fast);
  for (const Case& c : cases()) {
    if (fast && c.shape[3] > kernels::kBatchNormMaxPoolMaxWidth) continue;
    INFO("fast " << fast << ", shape " << shape_str(c.shape) << ", training " << c.training << ", affine "
                 << c.affine << ", NaN " << c.nan);
    const Result f = fused(c), a = apart(c);
    CHECK(f.op == (c.training ? "batch_norm_relu_max_pool2d" : "batch_norm_inference_relu_max_pool2d"));
    CHECK(testing::same_bits(f.out, a.out));
    CHECK(testing::same_bits(f.dx, a.dx));
    CHECK(testing::same_bits(f.dgamma, a.dgamma));
    CHECK(testing::same_bits(f.dbeta, a.dbeta));
    CHECK(testing::same_bits(f.running_mean, a.running_mean));
    CHECK(testing::same_bits(f.running_var, a.running_var));
    std::size_t zeros = 0, nans = 0;
    for (float v : f.out) {
      zeros += v == 0.0f;
      nans += std::isnan(v);
    }
    if (f.out.size() >= 64) CHECK(zeros > 0);  // some window had all four values cut by the ReLU
    CHECK((nans > 0) == c.nan);
  }
}

}  // namespace bn_pool_test

using namespace bn_pool_test;

TEST_CASE("batch_norm_relu_max_pool2d gives the bits of batch_norm(relu) then max_pool2d (portable kernels)",
          "[batch_norm][pool]") {
  check_fused_against_apart(false);
}

TEST_CASE("batch_norm_relu_max_pool2d gives the bits of batch_norm(relu) then max_pool2d (AVX-512)",
          "[batch_norm][pool]") {
  if (!kernels::cpu_has_avx512()) XGRAD_SKIP("no AVX-512 on this CPU: the fused fast path is never taken");
  check_fused_against_apart(true);
}

TEST_CASE("batch_norm_relu_max_pool2d: the AVX-512 and portable twins agree to a few float ulps",
          "[batch_norm][pool]") {
  if (!kernels::cpu_has_avx512()) XGRAD_SKIP("no AVX-512 on this CPU: the fused fast path is never taken");
  // Not bit for bit: the AVX-512 batch norm sums in 8 lanes and expands the affine map (batch_norm_avx512.cpp).
  // Inference runs the portable loops on both paths, so only training is compared.
  for (const Case& c : cases()) {
    if (!c.training || c.nan) continue;
    INFO("shape " << shape_str(c.shape) << ", affine " << c.affine);
    Result fast, portable;
    {
      FastPaths paths(true);
      fast = fused(c);
    }
    {
      FastPaths paths(false);
      portable = fused(c);
    }
    auto close = [](const std::vector<float>& a, const std::vector<float>& b) { return close_values(a, b, 1e-5f); };
    CHECK(close(fast.out, portable.out));
    CHECK(close(fast.dx, portable.dx));
    CHECK(close(fast.dgamma, portable.dgamma));
    CHECK(close(fast.dbeta, portable.dbeta));
    CHECK(close(fast.running_var, portable.running_var));
  }
}

TEST_CASE("batch_norm_relu_max_pool2d agrees with finite differences", "[batch_norm][pool][gradcheck]") {
  // h = 1e-3: with these seeds no normalized value lies within a step of the ReLU's kink or of a tie with
  // another value of its window, where differences fail; float32 forward passes limit agreement to ~1e-3.
  const GradcheckOptions o{.step = 1e-3, .atol = 2e-3, .rtol = 2e-2};
  for (bool training : {true, false}) {
    for (bool affine : {true, false}) {
      INFO("training " << training << ", affine " << affine);
      Tensor x = random_param({3, 2, 4, 6}, 21);
      Tensor rm = training ? Tensor() : zeros({2}), rv = training ? Tensor() : ones({2});
      if (!training) {
        randomize(rm, 22);
        rv.data()[1] = 2.5f;
      }
      std::vector<Tensor> inputs{x};
      if (affine) {
        inputs.push_back(random_param({2}, 23));
        inputs.push_back(random_param({2}, 24));
      }
      check_gradients([&](const std::vector<Tensor>& in) {
        const Tensor w = in.size() > 1 ? in[1] : Tensor(), b = in.size() > 2 ? in[2] : Tensor();
        return batch_norm_relu_max_pool2d(in[0], rm, rv, w, b, training, 0.1f, 1e-5f);
      }, inputs, o);
    }
  }
}

TEST_CASE("batch_norm_relu_max_pool2d without a graph keeps no argmax and gives the same output",
          "[batch_norm][pool]") {
  const Case c{Shape{2, 3, 6, 34}, true, true, false};
  const Result with_graph = fused(c);
  Tensor x = input(c, 11);
  Tensor w = random_param({3}, 12), b = random_param({3}, 13);
  NoGradGuard no_grad;
  const Tensor out = batch_norm_relu_max_pool2d(x, Tensor(), Tensor(), w, b, true, 0.1f, 1e-5f);
  CHECK(!out.impl()->grad_fn);
  CHECK(testing::same_bits(out.to_vector(), with_graph.out));
}

TEST_CASE("batch_norm_relu_max_pool2d names the shape it cannot pool", "[batch_norm][pool]") {
  using Catch::Matchers::Contains;
  auto call = [](const Shape& s) { return batch_norm_relu_max_pool2d(zeros(s), zeros({2}), ones({2})); };
  CHECK_THROWS_WITH(call({2, 2, 5, 4}), Contains("even height and width") && Contains("(2, 2, 5, 4)"));
  CHECK_THROWS_WITH(call({2, 2, 4, 3}), Contains("(2, 2, 4, 3)"));
  CHECK_THROWS_WITH(call({2, 2, 1, 2}), Contains("(2, 2, 1, 2)"));
  CHECK_THROWS_WITH(call({2, 2}), Contains("(N, C, H, W)") && Contains("(2, 2)"));
  CHECK_THROWS_WITH(call({2, 3, 4, 4}), Contains("running_mean") && Contains("(2, 3, 4, 4)"));
  CHECK_THROWS_AS(call({2, 2, 5, 4}), Error);
}
