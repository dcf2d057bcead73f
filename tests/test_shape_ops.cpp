// Shape ops: values by hand, storage sharing of reshape, Python slicing rules, gradients and errors.
#include <catch2/catch.hpp>

#include "gradcheck.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::gradcheck;
using xgrad::testing::random_param;

// Everything in a namespace of its own: the unit tests are compiled ten files to a translation unit.
namespace shape_ops_test {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;


// 0, 1, ..., 23 as a (2, 3, 4) tensor: x[i, j, k] = 12 i + 4 j + k.
Tensor iota234() { return from_vector(arange(24.0f).to_vector(), {2, 3, 4}); }

// These ops only move values (products of two at most): central differences have no truncation error,
// only float32 rounding of the forward, ~1e-7 relative times |L| ~ 10 over 2h = 2e-2, so ~1e-4 at worst.
// Tighter than the default so that a gradient scaled by 1.01 or sent to a neighbour cannot pass.
const xgrad::GradcheckOptions tight{1e-2, 2e-4, 1e-3};

void check_grad(const Fn& f, const std::vector<Tensor>& inputs) {
  auto r = gradcheck(f, inputs, tight);
  INFO(r.message);
  CHECK(r.ok);
}


TEST_CASE("reshape shares storage and keeps the values", "[shape_ops]") {
  Tensor x{{1, 2, 3}, {4, 5, 6}};
  Tensor r = reshape(x, {3, 2});
  CHECK(r.shape() == Shape{3, 2});
  CHECK(r.to_vector() == x.to_vector());
  CHECK(r.data() == x.data());
  CHECK_FALSE(r.same(x));
  x.set({0, 0}, 9.0f);
  CHECK(r.at({0, 0}) == 9.0f);
  CHECK(reshape(x, {6}).dim() == 1);
  CHECK(reshape(scalar_tensor(2.0f), {1, 1}).shape() == Shape{1, 1});
  CHECK(reshape(Tensor{5.0f}, {}).item() == 5.0f);
}

TEST_CASE("reshape: gradient comes back in the input's shape", "[shape_ops][gradcheck]") {
  Tensor x = Tensor{{1, 2, 3}, {4, 5, 6}}.set_requires_grad();
  Tensor upstream = from_vector({1, 2, 3, 4, 5, 6}, {3, 2});
  reshape(x, {3, 2}).backward(upstream);
  CHECK(x.grad().shape() == Shape{2, 3});
  CHECK(x.grad().to_vector() == upstream.to_vector());
  Tensor p = random_param({2, 3, 4}, 1);
  check_grad(
      [](const std::vector<Tensor>& in) {
        return reshape(in[0], {4, 6}) * reshape(in[0], {4, 6});
      },
      {p});
  check_grad([](const std::vector<Tensor>& in) { return flatten(in[0], 1); }, {p});
}

TEST_CASE("flatten merges a range of axes", "[shape_ops]") {
  Tensor x = iota234();
  CHECK(flatten(x).shape() == Shape{24});
  CHECK(flatten(x, 1).shape() == Shape{2, 12});
  CHECK(flatten(x, 0, 1).shape() == Shape{6, 4});
  CHECK(flatten(x, -2, -1).shape() == Shape{2, 12});
  CHECK(flatten(x, 1, 1).shape() == Shape{2, 3, 4});
  CHECK(flatten(x, 1).to_vector() == x.to_vector());
  CHECK(flatten(x, 1).data() == x.data());
  CHECK(flatten(scalar_tensor(4.0f)).shape() == Shape{1});
}

TEST_CASE("transpose and permute: values", "[shape_ops]") {
  Tensor x{{1, 2, 3}, {4, 5, 6}};
  Tensor t = transpose(x, 0, 1);
  CHECK(t.shape() == Shape{3, 2});
  CHECK(t.to_vector() == std::vector<float>{1, 4, 2, 5, 3, 6});
  CHECK(transpose(x, -1, -2).to_vector() == t.to_vector());
  CHECK(transpose(x, 1, 1).to_vector() == x.to_vector());

  // out[k, i, j] = x[i, j, k] = 12 i + 4 j + k.
  Tensor p = permute(iota234(), {2, 0, 1});
  REQUIRE(p.shape() == Shape{4, 2, 3});
  bool all_match = true;
  for (std::size_t k = 0; k < 4; ++k)
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 3; ++j)
        all_match = all_match && p.at({k, i, j}) == float(12 * i + 4 * j + k);
  CHECK(all_match);
  CHECK(permute(iota234(), {0, 1, 2}).to_vector() == iota234().to_vector());
  CHECK(permute(iota234(), {-1, -3, -2}).to_vector() == p.to_vector());
  // Transposing the outer axes of (2, 3, 4) moves whole rows of 4.
  CHECK(transpose(iota234(), 0, 1).to_vector() == std::vector<float>{0, 1, 2,  3,  12, 13, 14, 15,
                                                                     4, 5, 6,  7,  16, 17, 18, 19,
                                                                     8, 9, 10, 11, 20, 21, 22, 23});
  CHECK(permute(scalar_tensor(3.0f), {}).item() == 3.0f);
}

TEST_CASE("transpose and permute: gradients", "[shape_ops][gradcheck]") {
  Tensor x = random_param({2, 3, 4}, 2);
  for (const std::vector<int>& dims :
       std::vector<std::vector<int>>{{2, 0, 1}, {1, 0, 2}, {0, 2, 1}, {-1, -2, -3}}) {
    check_grad([&](const std::vector<Tensor>& in) { return permute(in[0], dims); }, {x});
  }
  check_grad([](const std::vector<Tensor>& in) { return transpose(in[0], 0, 2); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return transpose(in[0], -1, 1); }, {x});
}

TEST_CASE("concat joins along an axis like torch.cat", "[shape_ops]") {
  Tensor a{{1, 2, 3}, {4, 5, 6}};
  Tensor b = from_vector({7, 8}, {2, 1});
  Tensor c = concat({a, b}, 1);
  CHECK(c.shape() == Shape{2, 4});
  CHECK(c.to_vector() == std::vector<float>{1, 2, 3, 7, 4, 5, 6, 8});
  CHECK(concat({a, b}, -1).to_vector() == c.to_vector());
  Tensor r = concat({a, Tensor{{9, 9, 9}}, a}, 0);
  CHECK(r.shape() == Shape{5, 3});
  CHECK(r.to_vector() == std::vector<float>{1, 2, 3, 4, 5, 6, 9, 9, 9, 1, 2, 3, 4, 5, 6});
  CHECK(concat({a}, 0).to_vector() == a.to_vector());
  CHECK(concat({a, zeros({2, 0})}, 1).to_vector() == a.to_vector());
}

TEST_CASE("concat: gradients split back, inputs without grad get none", "[shape_ops][gradcheck]") {
  Tensor a = random_param({2, 3, 4}, 3), b = random_param({2, 1, 4}, 4), c = random_param({2, 2, 4}, 5);
  check_grad([](const std::vector<Tensor>& in) { return concat(in, 1); }, {a, b, c});
  check_grad([](const std::vector<Tensor>& in) { return concat({in[0], in[0]}, -1); }, {a});
  Tensor d = random_param({1, 3, 4}, 6);
  check_grad([](const std::vector<Tensor>& in) { return concat(in, 0); }, {a, d});

  Tensor x = Tensor{1, 2}.set_requires_grad();
  Tensor fixed{3, 4, 5};
  concat({fixed, x}, 0).backward(Tensor{10, 20, 30, 40, 50});
  CHECK(x.grad().to_vector() == std::vector<float>{40, 50});
  CHECK_FALSE(fixed.grad().defined());
}

TEST_CASE("slice follows Python's rules", "[shape_ops]") {
  // x is Python's list(range(10)); each comment gives the Python slice the call mirrors.
  Tensor x = arange(10.0f);
  CHECK(slice(x, 0, 2, 8, 2).to_vector() == std::vector<float>{2, 4, 6});   // x[2:8:2]
  CHECK(slice(x, 0, -3, 1000).to_vector() == std::vector<float>{7, 8, 9});  // x[-3:1000]
  CHECK(slice(x, 0, -100, 3).to_vector() == std::vector<float>{0, 1, 2});   // x[-100:3]
  CHECK(slice(x, 0, 1, -1).to_vector() == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8});  // x[1:-1]
  CHECK(slice(x, 0, 0, 10, 3).to_vector() == std::vector<float>{0, 3, 6, 9});           // x[::3]
  CHECK(slice(x, 0, 9, 100, 5).to_vector() == std::vector<float>{9});                   // x[9:100:5]
  CHECK(slice(x, 0, 5, 2).shape() == Shape{0});                                         // x[5:2] is empty
  CHECK(slice(x, 0, 20, 30).shape() == Shape{0});                                       // x[20:30] is empty
  CHECK(slice(x, 0, -1, -2).shape() == Shape{0});                                       // x[-1:-2] is empty

  Tensor m = from_vector(arange(10.0f).to_vector(), {2, 5});
  Tensor s = slice(m, 1, 1, 5, 2);  // m[:, 1:5:2]
  CHECK(s.shape() == Shape{2, 2});
  CHECK(s.to_vector() == std::vector<float>{1, 3, 6, 8});
  CHECK(slice(m, -2, 1, 2).to_vector() == std::vector<float>{5, 6, 7, 8, 9});  // m[1:2]
}

TEST_CASE("slice: gradients scatter back", "[shape_ops][gradcheck]") {
  Tensor x = random_param({3, 5, 4}, 7);
  check_grad([](const std::vector<Tensor>& in) { return slice(in[0], 0, 1, 3); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return slice(in[0], 1, -4, 5, 2); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return slice(in[0], -1, 0, 4, 3); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return slice(in[0], 1, 0, 1) * slice(in[0], 1, 4, 5); },
             {x});

  Tensor v = Tensor{1, 2, 3, 4, 5}.set_requires_grad();
  slice(v, 0, 1, 5, 2).backward(Tensor{10, 20});
  CHECK(v.grad().to_vector() == std::vector<float>{0, 10, 0, 20, 0});
}

TEST_CASE("shape ops: bad input throws naming the op and the shapes", "[shape_ops][errors]") {
  Tensor x = iota234();
  CHECK_THROWS_WITH(
      reshape(x, {5, 5}),
      Catch::Contains("reshape: cannot reshape a tensor of shape (2, 3, 4)") && Catch::Contains("(5, 5)"));
  CHECK_THROWS_WITH(flatten(x, 2, 1), Catch::Contains("flatten: start_dim 2 comes after end_dim 1") &&
                                          Catch::Contains("(2, 3, 4)"));
  CHECK_THROWS_WITH(flatten(x, 3), Catch::Contains("flatten: axis 3 is out of range"));
  CHECK_THROWS_WITH(flatten(scalar_tensor(1.0f), 1), Catch::Contains("flatten: start_dim 1"));
  CHECK_THROWS_WITH(transpose(x, 0, 3),
                    Catch::Contains("transpose: axis 3 is out of range for a tensor of rank 3"));
  CHECK_THROWS_WITH(permute(x, {1, 0}), Catch::Contains("permute: 2 dims for a tensor of shape (2, 3, 4)"));
  CHECK_THROWS_WITH(permute(x, {0, 1, -3}), Catch::Contains("permute: dim -3 is repeated"));
  CHECK_THROWS_WITH(permute(x, {0, 1, 5}), Catch::Contains("permute: axis 5 is out of range"));
  CHECK_THROWS_WITH(concat({}, 0), Catch::Contains("concat: no tensors"));
  CHECK_THROWS_WITH(concat({zeros({2, 3}), zeros({3, 1})}, 1),
                    Catch::Contains("concat: shapes (2, 3) and (3, 1) differ outside axis 1"));
  CHECK_THROWS_WITH(concat({zeros({2, 3}), zeros({2, 3, 1})}, 0), Catch::Contains("(2, 3, 1)"));
  CHECK_THROWS_WITH(concat({zeros({2}), zeros({2})}, 1), Catch::Contains("concat: axis 1 is out of range"));
  CHECK_THROWS_WITH(concat({scalar_tensor(1.0f), scalar_tensor(2.0f)}, 0),
                    Catch::Contains("concat: a rank-0"));
  CHECK_THROWS_WITH(slice(x, 0, 0, 2, 0), Catch::Contains("slice: step 0 must be positive"));
  CHECK_THROWS_WITH(slice(x, 0, 2, 0, -1), Catch::Contains("slice: step -1 must be positive"));
  CHECK_THROWS_WITH(slice(x, 3, 0, 1), Catch::Contains("slice: axis 3 is out of range"));
  CHECK_THROWS_WITH(slice(scalar_tensor(1.0f), 0, 0, 1), Catch::Contains("slice: axis 0 is out of range"));
}

}  // namespace shape_ops_test
