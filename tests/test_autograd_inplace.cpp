// In-place ops under autograd, with PyTorch's semantics: an op saves only what its backward reads and
// notes that tensor's version; backward() throws only when a saved tensor changed since. An in-place op
// rebases the tensor's history, and ops recorded before it keep differentiating the old value.
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

// The gradients of sum(u * f(inputs)) for a fixed random u, as plain vectors.
std::vector<std::vector<float>> gradients(const std::function<Tensor(const Inputs&)>& f, const Inputs& leaves) {
  Inputs in;
  for (const Tensor& t : leaves) in.push_back(t.detach().clone().set_requires_grad());
  const Tensor y = f(in);
  Generator gen(99);
  sum(y * randn(y.shape(), gen)).backward();
  std::vector<std::vector<float>> out;
  for (const Tensor& t : in) out.push_back(t.grad().to_vector());
  return out;
}
}  // namespace

TEST_CASE("a chain of in-place ops differentiates like its out-of-place twin", "[autograd_inplace][gradcheck]") {
  Tensor a = random_param({2, 3}, 31), b = random_param({3}, 32);
  auto in_place = [](const Inputs& in) {
    Tensor h = in[0] * 2.0f;  // mul by a scalar saves nothing, so h may be written
    h += in[1];
    h.sub_(in[1]).div_(2.0f);
    h *= in[0];
    return h;
  };
  auto out_of_place = [](const Inputs& in) { return ((in[0] * 2.0f + in[1]) - in[1]) / 2.0f * in[0]; };
  // The same float operations in the same order: equal to the bit.
  CHECK(in_place({a, b}).to_vector() == out_of_place({a, b}).to_vector());
  CHECK(gradients(in_place, {a, b}) == gradients(out_of_place, {a, b}));
  check_gradients(in_place, {a, b});
}

TEST_CASE("an in-place op on a tensor no op saved is allowed", "[autograd_inplace][gradcheck]") {
  Tensor x = random_param({2, 3}, 33), b = random_param({3}, 34);
  Tensor h = x * 2.0f;
  h += b;  // refused before: mul by a scalar saves neither its input nor its output
  sum(h).backward();
  CHECK(x.grad().to_vector() == std::vector<float>(6, 2.0f));
  CHECK(b.grad().to_vector() == std::vector<float>(3, 2.0f));  // summed over the broadcast rows
  // h * c with c constant saves c alone (dh = g c): h may then change.
  Tensor c{1, -2, 3};
  check_gradients([&c](const Inputs& in) {
    Tensor h = in[0] + in[0];
    Tensor y = h * c;
    h.add_(1.0f);
    Tensor z = h / c;  // saves c alone too
    h.mul_(3.0f);
    return y + z + h;
  }, {x});
}

TEST_CASE("ops recorded before an in-place op keep the gradient of the old value", "[autograd_inplace][gradcheck]") {
  Tensor a = random_param({4}, 35);
  Tensor h = a * 2.0f;
  Tensor y = h + 1.0f;  // dy/da = 2, recorded before h changes
  h.mul_(3.0f);         // now h = 6 a
  sum(y + h).backward();
  CHECK(a.grad().to_vector() == std::vector<float>(4, 8.0f));
  // Several rebases of one tensor, each with a consumer, and an operand that is the tensor itself.
  check_gradients([](const Inputs& in) {
    Tensor h = in[0] * 1.5f;
    Tensor y1 = h - 1.0f;
    h.mul_(in[0]);
    Tensor y2 = h * 0.5f;
    h += h;
    return y1 + y2 + h;
  }, {a});
}

TEST_CASE("a saved tensor modified in place throws at backward, as in PyTorch", "[autograd_inplace]") {
  Tensor x = random_param({3}, 36);
  Tensor y = x.sigmoid();  // sigmoid saves its output
  y.mul_(2.0f);
  CHECK_THROWS_AS(sum(y).backward(), Error);
  Tensor y2 = x.sigmoid();
  y2.mul_(2.0f);
  CHECK_THROWS_WITH(sum(y2).backward(), Catch::Contains("backward: a tensor that 'sigmoid' saved") &&
                                            Catch::Contains("modified in place after the forward"));
  // exp and relu save their output too; mul saves the other operand when this one needs a gradient.
  Tensor e = exp(x);
  e += 1.0f;
  CHECK_THROWS_WITH(sum(e).backward(), Catch::Contains("'exp'"));
  Tensor h = x * 1.0f, w = random_param({3}, 37);
  Tensor p = h * w;  // saves h for dw and w for dh
  h.sub_(1.0f);
  CHECK_THROWS_WITH(sum(p).backward(), Catch::Contains("'mul'"));
  // The failed backward leaves the leaves' gradients unset and no partial gradient behind.
  CHECK_FALSE(x.grad().defined());
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("in-place on a tensor that shares its storage with a live view refuses", "[autograd_inplace]") {
  Tensor a = random_param({2, 3}, 38);
  Tensor h = a + a;
  {
    Tensor v = h.reshape({6});
    CHECK_THROWS_WITH(h.add_(1.0f), Catch::Contains("add_") && Catch::Contains("live view"));
    CHECK_THROWS_WITH(v.add_(1.0f), Catch::Contains("live view"));
  }
  h.add_(1.0f);  // the view is gone
  // A view's history holds its base, so xgrad cannot tell a temporary base from one still in use, and
  // refuses (PyTorch would rebase the view); the out-of-place op is the way.
  Tensor v = (a * 3.0f).reshape({6});
  CHECK_THROWS_WITH(v.mul_(2.0f), Catch::Contains("live view"));
  v = v * 2.0f;
  sum(h + v.reshape({2, 3})).backward();
  CHECK(a.grad().to_vector() == std::vector<float>(6, 8.0f));
  // A detach() sees the values but has no history to get wrong: no refusal, as in PyTorch.
  Tensor k = a * 1.0f;
  const Tensor seen = k.detach();
  k.add_(2.0f);
  xgrad::testing::check_same(seen, k, 0.0);
}

TEST_CASE("a long chain of in-place ops neither overflows nor loses gradient", "[autograd_inplace]") {
  Tensor x = random_param({2}, 39);
  Tensor acc = zeros({2});
  for (int i = 0; i < 20000; ++i) acc += x;
  sum(acc).backward();
  CHECK(x.grad().to_vector() == std::vector<float>(2, 20000.0f));
  Tensor dropped = zeros({2});
  for (int i = 0; i < 20000; ++i) dropped += x;  // freed without backward: iteratively
}
