// Tensor: factories, element access, printing, storage sharing, detach/clone and their errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "xgrad/xgrad.hpp"

using namespace xgrad;

namespace {

std::string printed(const Tensor& t) {
  std::ostringstream out;
  out << t;
  return out.str();
}

double mean_of(const std::vector<float>& v) {
  double s = 0.0;
  for (float x : v) s += x;
  return s / static_cast<double>(v.size());
}

double var_of(const std::vector<float>& v) {
  const double m = mean_of(v);
  double s = 0.0;
  for (float x : v) s += (x - m) * (x - m);
  return s / static_cast<double>(v.size());
}

}  // namespace

TEST_CASE("zeros, ones, full and the _like forms", "[tensor]") {
  Tensor z = zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.dim() == 2);
  CHECK(z.numel() == 6);
  CHECK(z.to_vector() == std::vector<float>(6, 0.0f));
  CHECK(ones({4}).to_vector() == std::vector<float>(4, 1.0f));
  CHECK(full({2, 2}, -1.5f).to_vector() == std::vector<float>(4, -1.5f));
  CHECK(ones_like(z).shape() == Shape{2, 3});
  CHECK(ones_like(z).to_vector() == std::vector<float>(6, 1.0f));
  CHECK(zeros_like(ones({3})).to_vector() == std::vector<float>(3, 0.0f));
  CHECK(z.size(0) == 2);
  CHECK(z.size(-1) == 3);

  Tensor s = scalar_tensor(2.5f);
  CHECK(s.dim() == 0);
  CHECK(s.numel() == 1);
  CHECK(s.item() == 2.5f);
  CHECK(zeros({}).numel() == 1);
  CHECK(zeros({2, 0, 3}).numel() == 0);
  CHECK(empty({3, 4}).shape() == Shape{3, 4});
}

TEST_CASE("arange: integer and fractional steps", "[tensor]") {
  CHECK(arange(5.0f).to_vector() == std::vector<float>{0, 1, 2, 3, 4});
  CHECK(arange(2.0f, 5.0f).to_vector() == std::vector<float>{2, 3, 4});
  CHECK(arange(1.0f, 2.0f, 0.25f).to_vector() == std::vector<float>{1, 1.25f, 1.5f, 1.75f});
  CHECK(arange(5.0f, 0.0f, -1.5f).to_vector() == std::vector<float>{5, 3.5f, 2, 0.5f});
  CHECK(arange(3.0f, 1.0f).numel() == 0);
  // Like numpy.arange(0, 1, 0.1): ten values, the last 0.9, the stop excluded.
  Tensor t = arange(0.0f, 1.0f, 0.1f);
  REQUIRE(t.numel() == 10);
  CHECK(t.at({3}) == Approx(0.3).epsilon(1e-6));
  CHECK(t.at({9}) == Approx(0.9).epsilon(1e-6));
  CHECK_THROWS_WITH(arange(0.0f, 1.0f, 0.0f), Catch::Contains("arange") && Catch::Contains("step 0"));
  CHECK_THROWS_WITH(arange(0.0f, INFINITY), Catch::Contains("arange") && Catch::Contains("inf"));
}

TEST_CASE("from_vector and nested initializer lists", "[tensor]") {
  Tensor v = from_vector({1, 2, 3, 4, 5, 6}, {3, 2});
  CHECK(v.shape() == Shape{3, 2});
  CHECK(v.at({2, 1}) == 6.0f);
  CHECK_THROWS_WITH(from_vector({1, 2, 3, 4, 5}, {2, 3}),
                    Catch::Contains("from_vector: 5 values cannot fill shape (2, 3)"));

  Tensor r1{1, 2, 3};
  CHECK(r1.shape() == Shape{3});
  Tensor r2{{1, 2, 3}, {4, 5, 6}};
  CHECK(r2.shape() == Shape{2, 3});
  CHECK(r2.at({1, 0}) == 4.0f);
  Tensor r3{{{1, 2}, {3, 4}, {5, 6}}, {{7, 8}, {9, 10}, {11, 12}}};
  CHECK(r3.shape() == Shape{2, 3, 2});
  CHECK(r3.at({1, 2, 0}) == 11.0f);
  Tensor r4{{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}}, {{{9, 10}, {11, 12}}, {{13, 14}, {15, 16}}}};
  CHECK(r4.shape() == Shape{2, 2, 2, 2});
  CHECK(r4.to_vector() == arange(1.0f, 17.0f).to_vector());

  CHECK_THROWS_WITH((Tensor{{1, 2}, {3}}), Catch::Contains("ragged initializer list"));
  CHECK_THROWS_WITH((Tensor{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8, 9}}}), Catch::Contains("ragged"));
}

TEST_CASE("random factories: deterministic per seed, plausible statistics", "[tensor][random]") {
  Generator g1(42), g2(42), g3(43);
  const std::vector<float> a = randn({10000}, g1).to_vector();
  CHECK(a == randn({10000}, g2).to_vector());
  CHECK(a != randn({10000}, g3).to_vector());
  // Mean 0 (standard error 0.01) and variance 1 (standard error ~0.014): bounds at 5 standard errors.
  CHECK(std::fabs(mean_of(a)) < 0.05);
  CHECK(std::fabs(var_of(a) - 1.0) < 0.07);

  // The same draws follow for the next call on generators in the same state.
  CHECK(rand({5}, g1).to_vector() == rand({5}, g2).to_vector());

  Generator g(7);
  const std::vector<float> u = rand({10000}, g).to_vector();
  CHECK(*std::min_element(u.begin(), u.end()) >= 0.0f);
  CHECK(*std::max_element(u.begin(), u.end()) < 1.0f);
  CHECK(std::fabs(mean_of(u) - 0.5) < 0.015);        // standard error 0.0029
  CHECK(std::fabs(var_of(u) - 1.0 / 12.0) < 0.005);  // standard error ~0.0007

  const std::vector<float> w = uniform({10000}, -2.0f, 3.0f, g).to_vector();
  CHECK(*std::min_element(w.begin(), w.end()) >= -2.0f);
  CHECK(*std::max_element(w.begin(), w.end()) < 3.0f);
  CHECK(std::fabs(mean_of(w) - 0.5) < 0.075);  // standard error 0.0144
  Generator h1(5), h2(5);
  CHECK(uniform({4, 4}, -1.0f, 1.0f, h1).to_vector() == uniform({4, 4}, -1.0f, 1.0f, h2).to_vector());
  CHECK_THROWS_WITH(uniform({2}, 1.0f, 0.0f, g), Catch::Contains("uniform: low 1 is above high 0"));
}

TEST_CASE("item, at and set, with their errors", "[tensor]") {
  Tensor t{{1, 2, 3}, {4, 5, 6}};
  CHECK(t.at({0, 2}) == 3.0f);
  t.set({1, 1}, 50.0f);
  CHECK(t.at({1, 1}) == 50.0f);
  CHECK(t.to_vector()[4] == 50.0f);
  CHECK(Tensor{7.0f}.item() == 7.0f);
  CHECK(ones({1, 1, 1}).item() == 1.0f);

  CHECK_THROWS_WITH(t.item(), Catch::Contains("Tensor::item: the tensor has shape (2, 3)"));
  CHECK_THROWS_WITH(t.at({1}), Catch::Contains("Tensor::at: an index of 1 values for shape (2, 3)"));
  CHECK_THROWS_WITH(t.at({0, 3}),
                    Catch::Contains("Tensor::at: index 3 out of range on axis 1 of shape (2, 3)"));
  CHECK_THROWS_WITH(t.set({2, 0}, 1.0f), Catch::Contains("Tensor::set: index 2 out of range on axis 0"));
  CHECK_THROWS_WITH(t.size(2), Catch::Contains("Tensor::size: axis 2 is out of range"));

  Tensor undefined;
  CHECK_FALSE(undefined.defined());
  CHECK_THROWS_WITH(undefined.shape(), Catch::Contains("Tensor::shape: the tensor is undefined"));
  CHECK_THROWS_WITH(undefined.data(), Catch::Contains("Tensor::data: the tensor is undefined"));
  CHECK_FALSE(undefined.requires_grad());
}

TEST_CASE("printing shows the shape and the values", "[tensor]") {
  const std::string s = printed(Tensor{{1.5f, 2, 3}, {4, 5, -6.25f}});
  CHECK_THAT(s, Catch::Contains("shape=(2, 3)"));
  CHECK_THAT(s, Catch::Contains("1.5") && Catch::Contains("-6.25") && Catch::Contains("4"));
  CHECK_THAT(s, !Catch::Contains("requires_grad"));
  CHECK_THAT(printed(ones({2}).set_requires_grad()), Catch::Contains("requires_grad"));
  CHECK_THAT(printed(scalar_tensor(3.25f)), Catch::Contains("shape=()") && Catch::Contains("3.25"));
  CHECK_THAT(printed(zeros({0, 2})), Catch::Contains("shape=(0, 2)") && Catch::Contains("[]"));
  CHECK(printed(Tensor()) == "Tensor(undefined)");
  // Past 1,000 elements only the first and last three of each axis are shown.
  const std::string big = printed(arange(2000.0f));
  CHECK_THAT(big, Catch::Contains("...") && Catch::Contains("1999") && Catch::Contains("2"));
  CHECK_THAT(big, !Catch::Contains("1000"));
  CHECK_THAT(printed(arange(1000.0f)), !Catch::Contains("...") && Catch::Contains("500"));
}

TEST_CASE("copies share storage, clone copies, detach shares without the graph", "[tensor]") {
  Tensor a{1, 2, 3};
  Tensor b = a;
  CHECK(b.same(a));
  b.set({0}, 10.0f);
  CHECK(a.at({0}) == 10.0f);

  Tensor c = a.clone();
  CHECK_FALSE(c.same(a));
  CHECK(c.data() != a.data());
  c.set({1}, 20.0f);
  CHECK(a.at({1}) == 2.0f);
  CHECK(c.to_vector() == std::vector<float>{10, 20, 3});

  Tensor x = Tensor{1, 2}.set_requires_grad();
  Tensor y = x * 3.0f;
  Tensor d = y.detach();
  CHECK(d.data() == y.data());
  CHECK_FALSE(d.requires_grad());
  CHECK(d.is_leaf());
  CHECK_FALSE(x.clone().requires_grad());
  CHECK(x.clone().is_leaf());
}

TEST_CASE("requires_grad: leaves only", "[tensor][autograd]") {
  Tensor x = ones({2});
  CHECK_FALSE(x.requires_grad());
  CHECK(x.is_leaf());
  x.set_requires_grad();
  CHECK(x.requires_grad());
  Tensor y = x * 2.0f;
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  CHECK_THROWS_WITH(y.set_requires_grad(false),
                    Catch::Contains("set_requires_grad: only a leaf") && Catch::Contains("mul"));
  x.set_requires_grad(false);
  CHECK_FALSE((x * 2.0f).requires_grad());
  CHECK_THROWS_WITH(Tensor().set_requires_grad(),
                    Catch::Contains("set_requires_grad: the tensor is undefined"));
}
