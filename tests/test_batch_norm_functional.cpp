// The functional batch_norm (core/ops/batch_norm), with torch.nn.functional.batch_norm's semantics:
// running statistics optional in training and updated in place (unbiased variance, PyTorch's momentum),
// the Keras convention as an extra, finite differences and the composed TF reference, the same bits as the
// BatchNorm layer, and its argument checks (named by the layer when a layer calls it).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "tensor_checks.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using namespace xgrad::testing;

namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.numel() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("batch_norm in training: batch statistics, running statistics optional and updated in place",
          "[batch_norm][functional]") {
  // Channel 0: {1, 3, 5, 7} (mean 4, biased variance 5, unbiased 20/3); channel 1: {2, -2, 2, -2} (0, 4, 16/3).
  const Tensor x{{1.0f, 2.0f}, {3.0f, -2.0f}, {5.0f, 2.0f}, {7.0f, -2.0f}};
  Tensor rm = zeros({2}), rv = ones({2});
  const Tensor y = batch_norm(x, rm, rv, Tensor(), Tensor(), true, 0.1f, 0.0f);
  CHECK(y.data()[0] == Approx(-3.0 / std::sqrt(5.0)).epsilon(1e-6));
  CHECK(y.data()[1] == Approx(1.0).epsilon(1e-6));
  // PyTorch: running = 0.9 running + 0.1 batch, the variance unbiased.
  CHECK(rm.data()[0] == Approx(0.4).epsilon(1e-6));
  CHECK(rm.data()[1] == 0.0f);
  CHECK(rv.data()[0] == Approx(0.9 + 0.1 * 20.0 / 3.0).epsilon(1e-6));
  CHECK(rv.data()[1] == Approx(0.9 + 0.1 * 16.0 / 3.0).epsilon(1e-6));

  // Undefined running statistics: the same output, nothing to update.
  const Tensor y2 = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1f, 0.0f);
  CHECK(same_bits(y, y2));

  // Keras: moving = 0.99 moving + 0.01 batch, the variance biased.
  Tensor km = zeros({2}), kv = ones({2});
  batch_norm(x, km, kv, Tensor(), Tensor(), true, 0.99f, 1e-3f,
             {.convention = MomentumConvention::Keras, .unbiased_running_var = false});
  CHECK(km.data()[0] == Approx(0.04).epsilon(1e-6));
  CHECK(kv.data()[0] == Approx(0.99 + 0.01 * 5.0).epsilon(1e-6));
}

TEST_CASE("batch_norm not training normalizes by the running statistics and leaves them unchanged",
          "[batch_norm][functional]") {
  const Tensor x{{1.0f, 2.0f}, {3.0f, -2.0f}};
  Tensor rm = from_vector({1.0f, -1.0f}, {2}), rv = from_vector({4.0f, 0.25f}, {2});
  const Tensor w = from_vector({2.0f, 1.0f}, {2}), b = from_vector({0.5f, 0.0f}, {2});
  const Tensor y = batch_norm(x, rm, rv, w, b, false, 0.1f, 0.0f);
  CHECK(y.to_vector() == std::vector<float>{0.5f, 6.0f, 2.5f, -2.0f});
  CHECK(rm.to_vector() == std::vector<float>{1.0f, -1.0f});
  CHECK(rv.to_vector() == std::vector<float>{4.0f, 0.25f});
}

TEST_CASE("batch_norm gives the BatchNorm layer's bits, running statistics included", "[batch_norm][functional]") {
  BatchNorm2d bn(3);
  randomize(bn.weight(), 61);
  randomize(bn.bias(), 62);
  Generator gen(63);
  const Tensor x = randn({4, 3, 5, 5}, gen);
  Tensor rm = zeros({3}), rv = ones({3});
  for (int step = 0; step < 2; ++step) {
    CHECK(same_bits(bn(x), batch_norm(x, rm, rv, bn.weight(), bn.bias(), true)));
  }
  CHECK(same_bits(bn.running_mean(), rm));
  CHECK(same_bits(bn.running_var(), rv));
  bn.eval();
  CHECK(same_bits(bn(x), batch_norm(x, rm, rv, bn.weight(), bn.bias(), false)));
}

TEST_CASE("batch_norm agrees with finite differences and with moments + batch_normalization",
          "[batch_norm][functional][gradcheck]") {
  Generator gen(71);
  Tensor x = randn({3, 2, 2, 3}, gen).set_requires_grad();
  Tensor w = randn({2}, gen).set_requires_grad(), b = randn({2}, gen).set_requires_grad();
  for (bool training : {true, false}) {
    INFO("training " << training);
    const Tensor rm = from_vector({0.3f, -0.2f}, {2}), rv = from_vector({0.5f, 2.0f}, {2});
    // Training copies: the update must not move the statistics the next evaluation reads.
    check_gradients([&](const std::vector<Tensor>& in) {
      return batch_norm(in[0], rm.clone(), rv.clone(), in[1], in[2], training);
    }, {x, w, b});
  }
  // The fused op against the composition of primitive ops, values and gradients, on fresh leaves (the
  // gradient check leaves gradients behind).
  Tensor u = randn(x.shape(), gen);
  Tensor x1 = x.detach().clone().set_requires_grad();
  Tensor w1 = w.detach().clone().set_requires_grad(), b1 = b.detach().clone().set_requires_grad();
  Tensor y = batch_norm(x1, Tensor(), Tensor(), w1, b1, true);
  y.backward(u);
  Tensor x2 = x.detach().clone().set_requires_grad();
  Tensor gamma = from_vector(w.to_vector(), {2, 1, 1}).set_requires_grad();
  Tensor beta = from_vector(b.to_vector(), {2, 1, 1}).set_requires_grad();
  Moments m = moments(x2, {0, 2, 3}, true);
  Tensor y2 = batch_normalization(x2, m.mean, m.variance, beta, gamma, 1e-5f);
  y2.backward(u);
  check_same(y, y2, 1e-5);
  check_same(x1.grad(), x2.grad(), 1e-5);
  check_same(w1.grad(), reshape(gamma.grad(), {2}), 1e-5);
  check_same(b1.grad(), reshape(beta.grad(), {2}), 1e-5);
}

TEST_CASE("batch_norm rejects bad arguments naming them, a layer's call names the layer",
          "[batch_norm][functional][errors]") {
  const Tensor x = zeros({4, 3, 2, 2});
  CHECK_THROWS_WITH(batch_norm(zeros({4}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                    Catch::StartsWith("batch_norm: expected input of shape (N, C, *), got (4)"));
  CHECK_THROWS_WITH(batch_norm(x, zeros({3}), Tensor(), Tensor(), Tensor(), true),
                    Catch::Contains("both defined or both undefined"));
  CHECK_THROWS_WITH(batch_norm(x, zeros({2}), ones({2}), Tensor(), Tensor(), true),
                    Catch::Contains("running_mean of shape (2)") && Catch::Contains("3 channels"));
  CHECK_THROWS_WITH(batch_norm(x, Tensor(), Tensor(), ones({4}), Tensor(), true),
                    Catch::Contains("weight of shape (4)"));
  CHECK_THROWS_WITH(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false),
                    Catch::Contains("needed when not training"));
  CHECK_THROWS_WITH(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 1.5f),
                    Catch::Contains("momentum must be in [0, 1], got 1.5"));
  CHECK_THROWS_WITH(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1f, -1.0f),
                    Catch::Contains("eps must be finite and >= 0"));
  // Through layers: the layer's description, then the op's message.
  CHECK_THROWS_WITH(LayerNorm(Shape{4})(zeros({2, 5})),
                    Catch::StartsWith("LayerNorm((4,), eps=1e-05, elementwise_affine=True): layer_norm: expected "
                                      "input of shape (*, 4), got (2, 5)"));
  CHECK_THROWS_WITH(MaxPool2d(3)(zeros({1, 1, 2, 2})),
                    Catch::StartsWith("MaxPool2d(kernel_size=3, stride=3, padding=0): max_pool2d: the kernel"));
}
