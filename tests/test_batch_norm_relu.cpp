// BatchNorm followed by ReLU as one op (BatchNormOptions::fused_relu, set by the model): the values and
// gradients of a BatchNorm and a ReLU run apart, on both kernel paths (AVX-512 and the portable loops),
// planes (BatchNorm2d) and rows (BatchNorm1d), training and eval; finite differences; summary() shows
// the fusion; Sequential fuses nothing itself; the reference networks ask for it.
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
#include "fast_paths.hpp"
#include "skip.hpp"
#include "tensor_checks.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using namespace xgrad::testing;

namespace {

std::string op_of(const Tensor& t) { return t.impl()->grad_fn ? t.impl()->grad_fn->op : "(leaf)"; }

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

// The fused op against a BatchNorm and a ReLU apart, on the kernel path `fast` selects.
static void check_fused_relu_against_apart(bool fast) {
  {
    FastPaths paths(fast);
    // Planes with a tail past 8 lanes (HW = 30), rows with C off a multiple of 8 (C = 13).
    for (const Shape& shape : {Shape{4, 3, 5, 6}, Shape{6, 13}}) {
      for (bool training : {true, false}) {
        INFO("fast " << fast << ", shape " << shape_str(shape) << ", training " << training);
        BatchNormOptions options{int(shape[1])};
        std::shared_ptr<BatchNorm> bn;
        if (shape.size() == 4) bn = std::make_shared<BatchNorm2d>(options);
        else bn = std::make_shared<BatchNorm1d>(options);
        options.fused_relu = true;
        std::shared_ptr<BatchNorm> fused_bn;
        if (shape.size() == 4) fused_bn = std::make_shared<BatchNorm2d>(options);
        else fused_bn = std::make_shared<BatchNorm1d>(options);
        for (BatchNorm* m : {bn.get(), fused_bn.get()}) {
          randomize(m->weight(), 21);
          randomize(m->bias(), 22);
          if (!training) {
            randomize(m->running_mean(), 23);
            m->running_var().data()[0] = 0.25f;  // others stay 1
          }
          m->train(training);
        }
        auto relu = std::make_shared<ReLU>();
        Generator gen(24);
        const Tensor x = randn(shape, gen), u = randn(shape, gen);

        const std::string op = training ? "batch_norm_relu" : "batch_norm_inference_relu";
        const Run fused = run([&](const Tensor& in) { return (*fused_bn)(in); }, *fused_bn, x, u, op);
        const Run apart = run([&](const Tensor& in) { return (*relu)((*bn)(in)); }, *bn, x, u, "relu");
        CHECK(same_bits(fused.y, apart.y));
        // The ReLU's backward writes g * 0 (a -0 for a negative g) where the fused op loads 0: equal values.
        CHECK(fused.dx == apart.dx);
        CHECK(fused.dgamma == apart.dgamma);
        CHECK(fused.dbeta == apart.dbeta);
        CHECK(same_bits(fused_bn->running_mean().to_vector(), bn->running_mean().to_vector()));
        CHECK(same_bits(fused_bn->running_var().to_vector(), bn->running_var().to_vector()));
        std::size_t zeros = 0;
        for (float v : fused.y) zeros += v == 0.0f;
        CHECK(zeros > 0);  // the ReLU did cut something
        CHECK(zeros < fused.y.size());
      }
    }
  }
}

TEST_CASE("BatchNorm with fused_relu has the values and gradients of a BatchNorm and a ReLU apart (portable kernels)",
          "[batch_norm][relu]") {
  check_fused_relu_against_apart(false);
}

TEST_CASE("BatchNorm with fused_relu has the values and gradients of a BatchNorm and a ReLU apart (AVX-512)",
          "[batch_norm][relu]") {
  if (!kernels::cpu_has_avx512()) XGRAD_SKIP("no AVX-512 on this CPU: the fused fast path is never taken");
  check_fused_relu_against_apart(true);
}

TEST_CASE("batch_norm with the relu extra passes NaN as relu() does and zeroes the gradient where relu cut",
          "[batch_norm][relu]") {
  // y = x: running mean 0, variance 1 (up to eps), no affine.
  Tensor x = from_vector({-1.0f, 2.0f, std::nanf(""), -3.0f}, {2, 2}).set_requires_grad();
  Tensor y = batch_norm(x, zeros({2}), ones({2}), Tensor(), Tensor(), false, 0.1f, 1e-5f, {.relu = true});
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

TEST_CASE("BatchNorm with fused_relu agrees with finite differences", "[batch_norm][relu][gradcheck]") {
  for (const Shape& shape : {Shape{3, 2, 2, 3}, Shape{5, 3}}) {
    BatchNormOptions options{int(shape[1])};
    options.fused_relu = true;
    std::shared_ptr<BatchNorm> bn;
    if (shape.size() == 4) bn = std::make_shared<BatchNorm2d>(options);
    else bn = std::make_shared<BatchNorm1d>(options);
    randomize(bn->weight(), 31);
    randomize(bn->bias(), 32);
    Generator gen(33);
    Tensor x = randn(shape, gen).set_requires_grad();
    // h = 1e-3: no output of these seeds lies within a step of the ReLU's kink, where differences fail.
    const GradcheckOptions o{.step = 1e-3, .atol = 2e-3, .rtol = 2e-2};
    for (bool training : {true, false}) {
      bn->train(training);
      INFO("shape " << shape_str(shape) << ", training " << training);
      check_gradients([&](const std::vector<Tensor>& in) { return (*bn)(in[0]); },
                      {x, bn->weight(), bn->bias()}, o);
    }
  }
}

TEST_CASE("summary() shows the fusion: the BatchNorm with fused_relu and the Identity in the ReLU's place",
          "[batch_norm][relu]") {
  Generator gen(41);
  auto model = conv_bn_act(1, 4, 3, std::make_shared<ReLU>(), gen, ConvBnActOptions{.padding = 0});
  const std::string table = summary(*model, {2, 1, 6, 6});
  INFO(table);
  CHECK(table.find("BatchNorm2d(4, eps=1e-05, momentum=0.1, fused_relu=True)") != std::string::npos);
  CHECK(table.find("Identity()") != std::string::npos);
  CHECK(table.find("(2, 4, 4, 4)") != std::string::npos);
}

TEST_CASE("Sequential is a plain container: a BatchNorm then a ReLU run as two ops unless the model fuses them",
          "[batch_norm][relu]") {
  Generator gen(51);
  const Tensor x = randn({3, 2, 2, 2}, gen);
  Sequential plain{std::make_shared<BatchNorm2d>(2), std::make_shared<ReLU>()};
  const Tensor y = plain(x.detach().clone().set_requires_grad());
  CHECK(op_of(y) == "relu");
  BatchNormOptions options(2);
  options.fused_relu = true;
  Sequential fused{std::make_shared<BatchNorm2d>(options), std::make_shared<Identity>()};
  const Tensor z = fused(x.detach().clone().set_requires_grad());
  CHECK(op_of(z) == "batch_norm_relu");
  CHECK(same_bits(y.to_vector(), z.to_vector()));
}

TEST_CASE("The reference networks with BatchNorm run each BatchNorm -> ReLU fused", "[batch_norm][relu]") {
  for (const auto& net : {mnist_cnn(Normalization::Batch, 1), cifar_cnn(Normalization::Batch, 1)}) {
    std::size_t fused = 0;
    const auto& children = net->children();
    for (std::size_t i = 0; i < children.size(); ++i) {
      if (auto* bn = dynamic_cast<BatchNorm*>(children[i].second.get())) {
        CHECK(bn->options().fused_relu);
        CHECK(dynamic_cast<Identity*>(children.at(i + 1).second.get()) != nullptr);
        ++fused;
      }
      CHECK(dynamic_cast<ReLU*>(children[i].second.get()) == nullptr);
    }
    CHECK(fused >= 3);
  }
  // Without BatchNorm the ReLUs are modules of their own.
  CHECK(mnist_cnn(Normalization::Group, 1)->at<ReLU>(2) != nullptr);
}
