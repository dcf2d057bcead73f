// BatchNorm followed by ReLU as one op (BatchNorm::forward_relu, taken by Sequential): the values and
// gradients of the two layers run apart, on both kernel paths (AVX-512 and the portable loops), planes
// (BatchNorm2d) and rows (BatchNorm1d), training and eval; finite differences; and summary() still
// lists both layers; subclasses of BatchNorm are left alone.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/core/kernels/cpu_features.hpp"
#include "xgrad/core/tensor_impl.hpp"
#include "xgrad/layers/summary.hpp"
#include "tensor_checks.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using namespace xgrad::testing;

namespace {

struct FastPaths {  // sets the kernel path for a scope
  explicit FastPaths(bool on) : previous(kernels::fast_paths_enabled()) { kernels::set_fast_paths_enabled(on); }
  ~FastPaths() { kernels::set_fast_paths_enabled(previous); }
  bool previous;
};

std::string op_of(const Tensor& t) { return t.impl()->grad_fn ? t.impl()->grad_fn->op : "(leaf)"; }

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Run {
  std::vector<float> y, dx, dgamma, dbeta;
};

// y = relu(bn(x)) through `f`, then backward with upstream u; the gradients read and zeroed.
Run run(const std::function<Tensor(const Tensor&)>& f, BatchNorm& bn, const Tensor& x, const Tensor& u,
        const std::string& expected_op) {
  Tensor xc = x.detach().clone().set_requires_grad();
  Tensor y = f(xc);
  CHECK(op_of(y) == expected_op);
  y.backward(u);
  Run r{y.to_vector(), xc.grad().to_vector(), bn.weight().grad().to_vector(), bn.bias().grad().to_vector()};
  bn.zero_grad();
  return r;
}

}  // namespace

TEST_CASE("BatchNorm then ReLU in a Sequential runs fused, with the values and gradients of the two apart",
          "[batch_norm][relu]") {
  const bool avx512 = kernels::cpu_has_avx512();
  for (bool fast : {false, true}) {
    if (fast && !avx512) {
      WARN("no AVX-512 on this CPU: the fused fast path is not checked");
      continue;
    }
    FastPaths paths(fast);
    // Planes with a tail past 8 lanes (HW = 30), rows with C off a multiple of 8 (C = 13).
    for (const Shape& shape : {Shape{4, 3, 5, 6}, Shape{6, 13}}) {
      for (bool training : {true, false}) {
        INFO("fast " << fast << ", shape " << shape_str(shape) << ", training " << training);
        std::shared_ptr<BatchNorm> bn;
        if (shape.size() == 4) bn = std::make_shared<BatchNorm2d>(int(shape[1]));
        else bn = std::make_shared<BatchNorm1d>(int(shape[1]));
        randomize(bn->weight(), 21);
        randomize(bn->bias(), 22);
        if (!training) {
          randomize(bn->running_mean(), 23);
          bn->running_var().data()[0] = 0.25f;  // others stay 1
          bn->eval();
        }
        auto relu = std::make_shared<ReLU>();
        Sequential block{bn, relu};
        block.train(training);
        Generator gen(24);
        const Tensor x = randn(shape, gen), u = randn(shape, gen);

        const std::string op = training ? "batch_norm_relu" : "batch_norm_inference_relu";
        const Run fused = run([&](const Tensor& in) { return block(in); }, *bn, x, u, op);
        const Run apart = run([&](const Tensor& in) { return (*relu)((*bn)(in)); }, *bn, x, u, "relu");
        CHECK(same_bits(fused.y, apart.y));
        // The ReLU's backward writes g * 0 (a -0 for a negative g) where the fused op loads 0: equal values.
        CHECK(fused.dx == apart.dx);
        CHECK(fused.dgamma == apart.dgamma);
        CHECK(fused.dbeta == apart.dbeta);
        std::size_t zeros = 0;
        for (float v : fused.y) zeros += v == 0.0f;
        CHECK(zeros > 0);  // the ReLU did cut something
        CHECK(zeros < fused.y.size());
      }
    }
  }
}

TEST_CASE("BatchNorm::forward_relu passes NaN as relu() does and zeroes the gradient where relu cut",
          "[batch_norm][relu]") {
  BatchNorm1d bn(2);
  bn.eval();  // y = x: running mean 0, variance 1 (up to eps)
  Tensor x = from_vector({-1.0f, 2.0f, std::nanf(""), -3.0f}, {2, 2}).set_requires_grad();
  Tensor y = bn.forward_relu(x);
  const std::vector<float> v = y.to_vector();
  CHECK(v[0] == 0.0f);
  CHECK(!std::signbit(v[0]));
  CHECK(v[1] == Approx(2.0f).epsilon(1e-5));
  CHECK(std::isnan(v[2]));
  CHECK(v[3] == 0.0f);
  y.backward(from_vector({5.0f, 7.0f, 11.0f, 13.0f}, {2, 2}));
  const std::vector<float> dx = x.grad().to_vector();
  CHECK(dx[0] == 0.0f);
  CHECK(dx[1] == Approx(7.0f).epsilon(1e-5));
  CHECK(dx[2] == 0.0f);  // NaN is not > 0: cut, as PyTorch's threshold_backward does
  CHECK(dx[3] == 0.0f);
}

TEST_CASE("BatchNorm::forward_relu agrees with finite differences", "[batch_norm][relu][gradcheck]") {
  for (const Shape& shape : {Shape{3, 2, 2, 3}, Shape{5, 3}}) {
    std::shared_ptr<BatchNorm> bn;
    if (shape.size() == 4) bn = std::make_shared<BatchNorm2d>(2);
    else bn = std::make_shared<BatchNorm1d>(3);
    randomize(bn->weight(), 31);
    randomize(bn->bias(), 32);
    Generator gen(33);
    Tensor x = randn(shape, gen).set_requires_grad();
    // h = 1e-3: no output of these seeds lies within a step of the ReLU's kink, where differences fail.
    const GradcheckOptions o{.step = 1e-3, .atol = 2e-3, .rtol = 2e-2};
    for (bool training : {true, false}) {
      bn->train(training);
      INFO("shape " << shape_str(shape) << ", training " << training);
      check_gradients([&](const std::vector<Tensor>& in) { return bn->forward_relu(in[0]); },
                      {x, bn->weight(), bn->bias()}, o);
    }
  }
}

TEST_CASE("summary() lists a fused BatchNorm and ReLU as two layers", "[batch_norm][relu]") {
  Generator gen(41);
  Sequential model{std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 1, .out_channels = 4, .kernel_size = 3},
                                            gen),
                   std::make_shared<BatchNorm2d>(4), std::make_shared<ReLU>()};
  const std::string table = summary(model, {2, 1, 6, 6});
  INFO(table);
  CHECK(table.find("BatchNorm2d") != std::string::npos);
  CHECK(table.find("ReLU") != std::string::npos);
  CHECK(table.find("(2, 4, 4, 4)") != std::string::npos);
}

TEST_CASE("Sequential fuses only BatchNorm1d/2d/3d and ReLU themselves, not subclasses", "[batch_norm][relu]") {
  // A subclass may change forward(); the fused op would skip it.
  struct DoubledBatchNorm : BatchNorm2d {
    DoubledBatchNorm() : BatchNorm2d(2) {}
    Tensor forward(const Tensor& x) override { return mul(BatchNorm2d::forward(x), 2.0f); }
  };
  Generator gen(51);
  const Tensor x = randn({3, 2, 2, 2}, gen);
  auto bn = std::make_shared<DoubledBatchNorm>();
  Sequential block{bn, std::make_shared<ReLU>()};
  const Tensor y = block(x.detach().clone().set_requires_grad());
  CHECK(op_of(y) == "relu");
  CHECK(same_bits(y.to_vector(), relu(mul(BatchNorm2d(2)(x), 2.0f)).to_vector()));

  Sequential plain{std::make_shared<BatchNorm2d>(2), std::make_shared<ReLU>()};
  CHECK(op_of(plain(x.detach().clone().set_requires_grad())) == "batch_norm_relu");
}
