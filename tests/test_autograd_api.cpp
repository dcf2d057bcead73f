// Autograd API of issue 12: retain_grad(), grad(outputs, inputs), the version counter of saved tensors,
// and the in-place methods (add_, mul_, copy_, +=, ...) with PyTorch's rules.
#include <catch2/catch.hpp>

#include "tensor_checks.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::testing::check_close;
using xgrad::testing::check_gradients;
using xgrad::testing::random_param;

namespace {
using Inputs = std::vector<Tensor>;
}

TEST_CASE("retain_grad keeps a non-leaf's gradient", "[autograd_api]") {
  Tensor x = Tensor{1, 2}.set_requires_grad();
  Tensor h = x * 3.0f;
  CHECK(h.retain_grad().retains_grad());
  Tensor y = h * h;  // dy/dh = 2h = (6, 12)
  Tensor z = x * 2.0f;  // not retained: no gradient after backward, as in PyTorch
  sum(y + z).backward();
  CHECK(h.grad().to_vector() == std::vector<float>{6, 12});
  CHECK_FALSE(z.grad().defined());
  CHECK(x.grad().to_vector() == std::vector<float>{2 + 18, 2 + 36});  // 18 x + 2
  h.zero_grad();
  CHECK(h.grad().to_vector() == std::vector<float>{0, 0});
  CHECK_FALSE(x.retain_grad().retains_grad());  // a no-op on a leaf
  CHECK_THROWS_WITH(Tensor{1}.retain_grad(), Catch::Contains("retain_grad: the tensor does not require grad"));
}

TEST_CASE("grad(outputs, inputs) returns gradients and leaves .grad alone", "[autograd_api]") {
  Tensor x = Tensor{1, 2, 3}.set_requires_grad();
  Tensor w = Tensor{0.5f, -1, 2}.set_requires_grad();
  Tensor h = x * w;
  const std::vector<Tensor> g = grad({sum(h * h)}, {x, h});
  // d/dx sum((xw)^2) = 2 x w^2, d/dh = 2h
  check_close(g[0], {2 * 1 * 0.25, 2 * 2 * 1.0, 2 * 3 * 4.0}, 1e-6);
  check_close(g[1], {1.0, -4.0, 12.0}, 1e-6);
  CHECK_FALSE(x.grad().defined());
  CHECK_FALSE(w.grad().defined());

  // Several outputs with their upstream gradients: the gradient of the weighted sum.
  Tensor a = x * 2.0f, b = x * x;
  const std::vector<Tensor> g2 = grad({a, b}, {x}, {Tensor{1, 1, 1}, Tensor{1, 0, -1}});
  check_close(g2[0], {2 + 2, 2 + 0, 2 - 6}, 1e-6);

  Tensor unused = Tensor{1}.set_requires_grad();
  CHECK_THROWS_WITH(grad({sum(x * 2.0f)}, {unused}), Catch::Contains("grad: input 0 is not used"));
  const std::vector<Tensor> g3 = grad({sum(x * 2.0f)}, {x, unused}, {}, true);
  CHECK(g3[0].to_vector() == std::vector<float>{2, 2, 2});
  CHECK_FALSE(g3[1].defined());
  CHECK_THROWS_WITH(grad({x * 2.0f}, {x}), Catch::Contains("grad_outputs must be given"));
  CHECK_THROWS_WITH(grad({sum(x)}, {Tensor{1}}), Catch::Contains("grad: input 0 does not require grad"));
}

TEST_CASE("modifying a saved tensor before backward throws instead of a wrong gradient", "[autograd_api]") {
  Tensor w = Tensor{1, 2}.set_requires_grad();
  Tensor x{3, 4};
  const std::uint32_t v0 = x.version();
  Tensor y = sum(w * x);  // mul saves x for dw = g x
  x.mul_(10.0f);          // x needs no grad: a plain in-place write
  CHECK(x.version() > v0);
  CHECK_THROWS_WITH(y.backward(), Catch::Contains("backward: a tensor that 'mul' saved") &&
                                      Catch::Contains("modified in place"));

  Tensor x2{3, 4};
  Tensor y2 = sum(exp(w) * x2);
  x2.data()[0] = 7.0f;  // writing through data() counts too
  CHECK_THROWS_WITH(y2.backward(), Catch::Contains("'mul'"));

  // An optimizer-style update after backward is fine, and so is a new forward after it.
  Tensor y3 = sum(w * w);
  y3.backward();
  {
    NoGradGuard no_grad;
    w.sub_(w.grad() * 0.1f);
  }
  check_close(w, {0.8, 1.6}, 1e-6);
  Tensor v = w.clone();
  Tensor y4 = sum(exp(v.set_requires_grad()));
  y4.backward();
  check_close(v.grad(), {std::exp(0.8), std::exp(1.6)}, 1e-5);
}

TEST_CASE("in-place methods: values, broadcasting and PyTorch's refusals", "[autograd_api]") {
  Tensor x{{1, 2}, {3, 4}};
  x += Tensor{10, 20};
  CHECK(x.to_vector() == std::vector<float>{11, 22, 13, 24});
  x.sub_(1.0f).mul_(2.0f);
  CHECK(x.to_vector() == std::vector<float>{20, 42, 24, 46});
  x /= 2.0f;
  x -= tensor({{10}, {12}});
  CHECK(x.to_vector() == std::vector<float>{0, 11, 0, 11});
  x.add_(Tensor{1, 1}, 3.0f);
  CHECK(x.to_vector() == std::vector<float>{3, 14, 3, 14});
  x.masked_fill_(x > 5.0f, -1.0f);
  CHECK(x.to_vector() == std::vector<float>{3, -1, 3, -1});
  x.copy_(Tensor{7, 8});
  CHECK(x.to_vector() == std::vector<float>{7, 8, 7, 8});
  x *= Tensor{{2, 2}, {0, 0}};
  x.div_(Tensor{2, 4});
  CHECK(x.to_vector() == std::vector<float>{7, 4, 0, 0});
  x.fill_(5.0f);
  CHECK(x.to_vector() == std::vector<float>{5, 5, 5, 5});
  x.zero_();
  CHECK(x.to_vector() == std::vector<float>{0, 0, 0, 0});
  // The view shares the storage: it sees the write.
  Tensor flat = reshape(x, {-1});
  x.add_(1.0f);
  CHECK(flat.to_vector() == std::vector<float>{1, 1, 1, 1});
  CHECK_THROWS_WITH((Tensor{1, 2}.add_(Tensor{{1, 2}, {3, 4}})),
                    Catch::Contains("add_: the result has shape (2, 2), not the tensor's (2)"));

  Tensor leaf = Tensor{1, 2}.set_requires_grad();
  CHECK_THROWS_WITH(leaf.add_(1.0f), Catch::Contains("add_: a leaf tensor that requires grad"));
  {
    NoGradGuard no_grad;
    leaf.add_(1.0f);  // allowed without grad mode, as an optimizer's update
  }
  CHECK(leaf.to_vector() == std::vector<float>{2, 3});

  Tensor h = leaf + leaf;
  Tensor view = reshape(h, {2, 1});
  CHECK_THROWS_WITH(h.mul_(2.0f), Catch::Contains("mul_") && Catch::Contains("shares its storage"));
  (void)view;
}

TEST_CASE("in-place on a non-leaf takes the op into its history", "[autograd_api][gradcheck]") {
  // f(a, b) = (((a + a) += b) - b) / 2) *= a, copy_ and masked_fill_ likewise; checked by finite
  // differences. (More chains, and the comparison with the out-of-place twin: test_autograd_inplace.cpp.)
  Tensor a = random_param({2, 3}, 21), b = random_param({3}, 22);
  check_gradients([](const Inputs& in) {
    Tensor h = in[0] + in[0];
    h += in[1];
    h.sub_(in[1]).div_(2.0f);
    h *= in[0];
    return h;
  }, {a, b});
  check_gradients([](const Inputs& in) {
    Tensor h = in[0] + in[0];
    h.masked_fill_(Tensor{1, 0, 0}, 3.0f);
    h.mul_(in[0]);
    return h;
  }, {a});
  check_gradients([](const Inputs& in) {
    Tensor h = in[0] + in[0];
    h.copy_(in[1]);  // the old value gets no gradient
    return h * in[0];
  }, {a, b});
  // A tensor that needs no grad joins the graph through its in-place operand.
  Tensor c = random_param({3}, 23);
  check_gradients([](const Inputs& in) {
    Tensor acc = zeros({3});
    acc.add_(in[0]);
    acc.mul_(in[0]);
    return acc;
  }, {c});
}
