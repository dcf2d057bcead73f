// The PyTorch-named tensor API of issue 12: literals, sin(x) by ADL, reshape with -1, squeeze/unsqueeze,
// stack, comparisons, argmax/argmin, max/min with indices, index_select, gather, where, masked_fill,
// log1p/sin/cos/softplus and the method forms. Values by hand; gradients by finite differences.
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
// h = 1e-2 on O(1) values: float32 rounding of the weighted sum is ~1e-6 relative, the truncation error
// of the central difference ~h^2 f''' ~1e-4: the default margins (atol 1e-3, rtol 1e-2) hold.
}  // namespace

TEST_CASE("tensor() literals: one meaning at every depth", "[tensor_api]") {
  Tensor col = tensor({{0.5f}, {-1.0f}});  // Tensor{{0.5f}, {-1.0f}} is ambiguous in C++
  CHECK(col.shape() == Shape{2, 1});
  CHECK(col.to_vector() == std::vector<float>{0.5f, -1.0f});
  CHECK(tensor({{1, 2}, {3, 4}}).shape() == Shape{2, 2});
  CHECK(tensor({1.5, 2.5}).to_vector() == std::vector<float>{1.5f, 2.5f});
  CHECK(tensor(3).shape() == Shape{});
  CHECK(tensor(3).item() == 3.0f);
  CHECK(tensor({{{1}, {2}}, {{3}, {4}}}).shape() == Shape{2, 2, 1});
  CHECK(tensor({{}, {}}).shape() == Shape{2, 0});
  CHECK_THROWS_WITH(tensor({{1, 2}, {3}}), Catch::Contains("tensor: ragged literal"));
  CHECK_THROWS_WITH(tensor({1, {2, 3}}), Catch::Contains("ragged"));
  CHECK_THROWS_WITH(tensor({{2, 3}, 1}), Catch::Contains("ragged"));
}

TEST_CASE("sin(x) and friends resolve by argument-dependent lookup", "[tensor_api]") {
  const Tensor x{0.0f, 1.0f};
  // Unqualified, as a user writes it: std::sin(double) must not be picked.
  check_close(sin(x), {0.0, std::sin(1.0)}, 1e-6);
  check_close(cos(x), {1.0, std::cos(1.0)}, 1e-6);
  // Near 0, log1p keeps the digits log(1 + x) loses (that would give 1.19e-7 here in float32).
  check_close(log1p(Tensor{1e-7f}), {1e-7}, 1e-12);
  check_close(log1p(Tensor{1.0f}), {std::log(2.0)}, 1e-6);
  // softplus = log(1 + e^x); above the threshold it is x itself.
  check_close(softplus(Tensor{0.0f, 2.0f, 30.0f}), {std::log(2.0), std::log1p(std::exp(2.0)), 30.0}, 1e-6);
  check_close(softplus(Tensor{1.0f}, 2.0f), {std::log1p(std::exp(2.0)) / 2.0}, 1e-6);
}

TEST_CASE("sin, cos, log1p, softplus: gradients", "[tensor_api][gradcheck]") {
  Tensor x = random_param({3, 4}, 11);
  check_gradients([](const Inputs& in) { return sin(in[0]); }, {x});
  check_gradients([](const Inputs& in) { return cos(in[0]); }, {x});
  Tensor pos = add(abs(x.detach()), 0.2f).set_requires_grad();  // log1p's domain, away from -1
  check_gradients([](const Inputs& in) { return log1p(in[0]); }, {pos});
  check_gradients([](const Inputs& in) { return softplus(in[0]); }, {x});
  check_gradients([](const Inputs& in) { return softplus(in[0], 3.0f, 2.0f); }, {x});
}

TEST_CASE("reshape with -1 infers one size, with clear errors", "[tensor_api]") {
  const Tensor x = arange(12.0f);
  CHECK(reshape(x, {-1, 4}).shape() == Shape{3, 4});
  CHECK(reshape(x, {2, -1, 2}).shape() == Shape{2, 3, 2});
  CHECK(x.reshape({4, -1}).shape() == Shape{4, 3});
  CHECK(x.reshape({-1}).shape() == Shape{12});
  const std::size_t n = 6;
  CHECK(reshape(x, {n, 2}).shape() == Shape{6, 2});  // a size_t list still takes the Shape form
  CHECK(reshape(x, Shape{static_cast<std::size_t>(-1), 6}).shape() == Shape{2, 6});  // a wrapped -1
  CHECK_THROWS_WITH(reshape(x, {-1, 5}), Catch::Contains("reshape: cannot reshape a tensor of shape (12)") &&
                                             Catch::Contains("(-1, 5)"));
  CHECK_THROWS_WITH(reshape(x, {-1, -1}), Catch::Contains("only one size can be -1"));
  CHECK_THROWS_WITH(reshape(x, {-2, 6}), Catch::Contains("size -2") && !Catch::Contains("18446744073709551615"));
  CHECK_THROWS_WITH(reshape(x, {5, 3}), Catch::Contains("(5, 3)") && Catch::Contains("15 elements"));
  Tensor p = random_param({2, 6}, 3);
  check_gradients([](const Inputs& in) { return reshape(in[0], {-1, 3}) * 2.0f; }, {p});
}

TEST_CASE("squeeze, unsqueeze and stack", "[tensor_api]") {
  const Tensor x = zeros({1, 3, 1, 2});
  CHECK(squeeze(x).shape() == Shape{3, 2});
  CHECK(squeeze(x, 2).shape() == Shape{1, 3, 2});
  CHECK(squeeze(x, 1).shape() == Shape{1, 3, 1, 2});  // size 3: unchanged, as torch
  CHECK(x.squeeze(-4).shape() == Shape{3, 1, 2});
  CHECK(unsqueeze(x, 0).shape() == Shape{1, 1, 3, 1, 2});
  CHECK(unsqueeze(x, -1).shape() == Shape{1, 3, 1, 2, 1});
  CHECK(scalar_tensor(1.0f).unsqueeze(0).shape() == Shape{1});
  CHECK_THROWS_WITH(unsqueeze(x, 5), Catch::Contains("unsqueeze"));

  const Tensor a{1, 2, 3}, b{4, 5, 6};
  CHECK(stack({a, b}).shape() == Shape{2, 3});
  CHECK(stack({a, b}).to_vector() == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(stack({a, b}, 1).to_vector() == std::vector<float>{1, 4, 2, 5, 3, 6});
  CHECK(stack({a, b}, -1).shape() == Shape{3, 2});
  CHECK_THROWS_WITH(stack({a, Tensor{1, 2}}), Catch::Contains("stack: shapes (3) and (2) differ"));
  Tensor p = random_param({2, 3}, 4), q = random_param({2, 3}, 5);
  check_gradients([](const Inputs& in) { return stack({in[0], in[1]}, 1); }, {p, q});
  check_gradients([](const Inputs& in) { return unsqueeze(squeeze(in[0]), 1) * in[0]; },
                  {random_param({1, 4}, 6)});
}

TEST_CASE("comparisons give float 0/1 masks with broadcasting and no graph", "[tensor_api]") {
  Tensor x = Tensor{{1, 2, 3}, {4, 5, 6}}.set_requires_grad();
  const Tensor row{2, 2, 7};
  CHECK(eq(x, row).to_vector() == std::vector<float>{0, 1, 0, 0, 0, 0});
  CHECK(ne(x, 2.0f).to_vector() == std::vector<float>{1, 0, 1, 1, 1, 1});
  CHECK(lt(x, row).to_vector() == std::vector<float>{1, 0, 1, 0, 0, 1});
  CHECK(le(x, 2.0f).to_vector() == std::vector<float>{1, 1, 0, 0, 0, 0});
  CHECK(gt(x, 4.0f).to_vector() == std::vector<float>{0, 0, 0, 0, 1, 1});
  CHECK(ge(x, row).to_vector() == std::vector<float>{0, 1, 0, 1, 1, 0});
  CHECK((x > 3.0f).to_vector() == gt(x, 3.0f).to_vector());
  CHECK((x <= row).to_vector() == le(x, row).to_vector());
  CHECK(x.gt(row).to_vector() == gt(x, row).to_vector());
  CHECK_FALSE(gt(x, 1.0f).requires_grad());
  CHECK(eq(Tensor{std::nanf("")}, Tensor{std::nanf("")}).item() == 0.0f);
  CHECK_THROWS_WITH(lt(x, Tensor{1, 2}), Catch::Contains("lt") && Catch::Contains("(2, 3)"));
}

TEST_CASE("argmax and argmin: flat, along a dim, ties and NaN", "[tensor_api]") {
  const Tensor x{{1, 5, 5}, {7, 0, -2}};
  CHECK(argmax(x).item() == 3.0f);  // the 7, in the flattened tensor
  CHECK(argmax(Tensor{{1, 5, 5}, {0, 0, -2}}).item() == 1.0f);  // the first of the tied 5s
  CHECK(argmin(x).item() == 5.0f);
  CHECK(argmax(x, 1).to_vector() == std::vector<float>{1, 0});
  CHECK(argmax(x, 0).to_vector() == std::vector<float>{1, 0, 0});
  CHECK(x.argmin(1).to_vector() == std::vector<float>{0, 2});
  CHECK(argmax(x, -1, true).shape() == Shape{2, 1});
  CHECK(argmax(Tensor{1.0f, std::nanf(""), 9.0f}).item() == 1.0f);  // NaN wins, as torch
  CHECK(argmin(Tensor{1.0f, std::nanf(""), -9.0f}).item() == 1.0f);
  CHECK(argmax(scalar_tensor(4.0f), 0).item() == 0.0f);
  CHECK_THROWS_WITH(argmax(zeros({2, 0}), 1), Catch::Contains("argmax: dim 1 of shape (2, 0) is empty"));
  CHECK_THROWS_WITH(argmax(x, 2), Catch::Contains("argmax"));
}

TEST_CASE("max and min along a dim return values and indices", "[tensor_api]") {
  const Tensor x{{1, 5, 3}, {7, 0, -2}};
  auto [values, indices] = max(x, 1);
  CHECK(values.to_vector() == std::vector<float>{5, 7});
  CHECK(indices.to_vector() == std::vector<float>{1, 0});
  const ValuesIndices m = x.min(0, true);
  CHECK(m.values.shape() == Shape{1, 3});
  CHECK(m.values.to_vector() == std::vector<float>{1, 0, -2});
  CHECK(m.indices.to_vector() == std::vector<float>{0, 1, 1});
  CHECK(max(x, {1}).to_vector() == std::vector<float>{5, 7});  // the axes form is still torch.amax
  CHECK(min(x).item() == -2.0f);
  CHECK(min(x, {0}).to_vector() == std::vector<float>{1, 0, -2});
  CHECK(x.max().item() == 7.0f);
  Tensor p = random_param({3, 4}, 7);
  check_gradients([](const Inputs& in) { return max(in[0], 1).values; }, {p});
  check_gradients([](const Inputs& in) { return min(in[0], 0, true).values; }, {p});
  check_gradients([](const Inputs& in) { return min(in[0], {1}); }, {p});
}

TEST_CASE("index_select picks slices, repeated indices add their gradients", "[tensor_api]") {
  const Tensor x{{1, 2, 3}, {4, 5, 6}};
  CHECK(index_select(x, 1, Tensor{2, 0}).to_vector() == std::vector<float>{3, 1, 6, 4});
  CHECK(x.index_select(0, Tensor{1, 1, 0}).to_vector() == std::vector<float>{4, 5, 6, 4, 5, 6, 1, 2, 3});
  CHECK(index_select(x, 0, scalar_tensor(1)).shape() == Shape{1, 3});
  CHECK_THROWS_WITH(index_select(x, 1, Tensor{3}), Catch::Contains("index_select: index 3") &&
                                                       Catch::Contains("[0, 3)"));
  CHECK_THROWS_WITH(index_select(x, 1, Tensor{0.5f}), Catch::Contains("not a whole number"));
  CHECK_THROWS_WITH(index_select(x, 1, tensor({{0}})), Catch::Contains("rank 0 or 1"));
  Tensor p = random_param({3, 4, 2}, 8);
  check_gradients([](const Inputs& in) { return index_select(in[0], 1, Tensor{3, 0, 3}); }, {p});
  Tensor q = Tensor{1, 2, 3}.set_requires_grad();
  sum(index_select(q, 0, Tensor{2, 2, 0})).backward();
  CHECK(q.grad().to_vector() == std::vector<float>{1, 0, 2});
}

TEST_CASE("gather follows torch.gather", "[tensor_api]") {
  const Tensor x{{1, 2}, {3, 4}};
  CHECK(gather(x, 1, Tensor{{0, 0}, {1, 0}}).to_vector() == std::vector<float>{1, 1, 4, 3});
  CHECK(gather(x, 0, Tensor{{1, 0}}).to_vector() == std::vector<float>{3, 2});
  // Picking each row's label, as cross_entropy does: x.gather(1, labels.unsqueeze(1)).
  CHECK(x.gather(1, Tensor{1, 0}.unsqueeze(1)).to_vector() == std::vector<float>{2, 3});
  CHECK_THROWS_WITH(gather(x, 1, Tensor{0, 1}), Catch::Contains("rank of x"));
  CHECK_THROWS_WITH(gather(x, 1, tensor({{2}, {0}})), Catch::Contains("gather: index 2"));
  CHECK_THROWS_WITH(gather(x, 1, tensor({{0}, {0}, {0}})), Catch::Contains("larger than x"));
  Tensor p = random_param({3, 4}, 9);
  check_gradients([](const Inputs& in) { return gather(in[0], 1, Tensor{{0, 3, 0}, {1, 1, 2}, {3, 2, 0}}); }, {p});
  check_gradients([](const Inputs& in) { return gather(in[0], 0, Tensor{{2, 0, 1, 2}}); }, {p});
}

TEST_CASE("where and masked_fill select without mixing the unselected side", "[tensor_api]") {
  const Tensor cond{1, 0, 1};
  CHECK(where(cond, Tensor{1, 2, 3}, Tensor{-1, -2, -3}).to_vector() == std::vector<float>{1, -2, 3});
  CHECK(where(tensor({{1}, {0}}), Tensor{1, 2}, 9.0f).to_vector() == std::vector<float>{1, 2, 9, 9});
  const float inf = std::numeric_limits<float>::infinity();
  Tensor a = Tensor{inf, 2.0f}.set_requires_grad();
  sum(where(Tensor{0, 1}, a, 0.0f)).backward();
  CHECK(a.grad().to_vector() == std::vector<float>{0, 1});  // no NaN from the inf left unselected

  const Tensor x{{1, -2}, {-3, 4}};
  CHECK(masked_fill(x, x < 0.0f, 0.0f).to_vector() == std::vector<float>{1, 0, 0, 4});
  CHECK(x.masked_fill(Tensor{1, 0}, -1.0f).to_vector() == std::vector<float>{-1, -2, -1, 4});
  CHECK_THROWS_WITH(masked_fill(x, Tensor{1, 0, 1}, 0.0f), Catch::Contains("masked_fill"));
  CHECK_THROWS_WITH(masked_fill(Tensor{1, 2}, Tensor{{1, 0}, {0, 1}}, 0.0f),
                    Catch::Contains("does not broadcast to x's shape (2)"));

  Tensor p = random_param({2, 3}, 10), q = random_param({3}, 11);
  const Tensor c = Tensor{{1, 0, 1}, {0, 0, 1}};
  check_gradients([&c](const Inputs& in) { return where(c, in[0], in[1]); }, {p, q});
  check_gradients([&c](const Inputs& in) { return masked_fill(in[0], c, 2.0f); }, {p});
}

TEST_CASE("method forms equal the free functions", "[tensor_api]") {
  Generator gen(3);
  const Tensor x = randn({2, 3}, gen);
  CHECK(x.sum().item() == sum(x).item());
  CHECK(x.mean({1}).to_vector() == mean(x, {1}).to_vector());
  CHECK(x.var({0}, false).to_vector() == var(x, {0}, false).to_vector());
  CHECK(x.exp().to_vector() == exp(x).to_vector());
  CHECK(x.t().shape() == Shape{3, 2});
  CHECK(x.transpose(0, 1).to_vector() == transpose(x, 0, 1).to_vector());
  CHECK(x.flatten().shape() == Shape{6});
  CHECK(x.relu().to_vector() == relu(x).to_vector());
  CHECK(x.softmax(1).to_vector() == softmax(x, 1).to_vector());
  CHECK(x.matmul(x.t()).to_vector() == matmul(x, transpose(x, 0, 1)).to_vector());
  CHECK(x.pow(2.0f).to_vector() == pow(x, 2.0f).to_vector());
  CHECK(x.clamp(-0.5f, 0.5f).to_vector() == clamp(x, -0.5f, 0.5f).to_vector());
}
