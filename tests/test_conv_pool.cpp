// conv2d, max_pool2d, avg_pool2d: values and gradients against direct loops written here in double,
// finite-difference gradient checks, hand-computed examples, error messages and bit-identical reruns.
#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>

#include "gradcheck.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::gradcheck;
using xgrad::GradcheckOptions;

namespace {

Tensor param(const Shape& shape, std::uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen).set_requires_grad();
}

std::string str(Size2 s) {
  std::ostringstream out;
  out << "(" << s.h << ", " << s.w << ")";
  return out.str();
}

// A reference result: each element's exact-ish value (double) and the sum of the absolute values of the
// terms that made it, which bounds the float rounding error.
struct Ref {
  std::vector<double> value, mag;
  explicit Ref(std::size_t n = 0) : value(n, 0.0), mag(n, 0.0) {}
  void add(std::size_t i, double term) {
    value[i] += term;
    mag[i] += std::fabs(term);
  }
};

// A float sum of `terms` rounded products, in any order, lies within about (terms + 1) 2^-24 sum|terms|
// of the exact sum (the classic bound for recursive summation); the factor 2 is margin. A wrong tap or
// index gives an error of the size of a whole term, far above this.
void check_close(const Tensor& actual, const Ref& ref, std::size_t terms, const std::string& what) {
  REQUIRE(actual.numel() == ref.value.size());
  const double unit = std::ldexp(1.0, -24);
  for (std::size_t i = 0; i < ref.value.size(); ++i) {
    const double tol = 2.0 * double(terms + 1) * unit * ref.mag[i] + 1e-30;
    if (std::fabs(actual.data()[i] - ref.value[i]) > tol) {
      FAIL_CHECK(what << " element " << i << ": " << actual.data()[i] << " vs reference " << ref.value[i]);
      return;
    }
  }
}

// The direct 7-loop convolution and its gradients for the upstream gradient g.
struct ConvRef {
  Ref y, dx, dw, db;
};
ConvRef naive_conv(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& g, Size2 s, Size2 p, Size2 d) {
  const std::size_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const std::size_t O = w.size(0), KH = w.size(2), KW = w.size(3), OH = g.size(2), OW = g.size(3);
  ConvRef r{Ref(N * O * OH * OW), Ref(x.numel()), Ref(w.numel()), Ref(O)};
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t o = 0; o < O; ++o)
      for (std::size_t oh = 0; oh < OH; ++oh)
        for (std::size_t ow = 0; ow < OW; ++ow) {
          const std::size_t yi = ((n * O + o) * OH + oh) * OW + ow;
          const double gv = g.data()[yi];
          if (b.defined()) r.y.add(yi, b.data()[o]);
          r.db.add(o, gv);
          for (std::size_t c = 0; c < C; ++c)
            for (std::size_t kh = 0; kh < KH; ++kh)
              for (std::size_t kw = 0; kw < KW; ++kw) {
                const long ih = long(oh * s.h + kh * d.h) - p.h, iw = long(ow * s.w + kw * d.w) - p.w;
                if (ih < 0 || iw < 0 || ih >= long(H) || iw >= long(W)) continue;
                const std::size_t xi = ((n * C + c) * H + ih) * W + iw, wi = ((o * C + c) * KH + kh) * KW + kw;
                r.y.add(yi, double(x.data()[xi]) * w.data()[wi]);
                r.dx.add(xi, gv * w.data()[wi]);
                r.dw.add(wi, gv * x.data()[xi]);
              }
        }
  return r;
}

// Runs conv2d forward and backward (random upstream) and compares all of it with naive_conv.
void check_conv_against_loops(const Shape& xs, const Shape& ws, bool with_bias, Size2 s, Size2 p, Size2 d,
                              std::uint64_t seed) {
  INFO("x " << shape_str(xs) << " w " << shape_str(ws) << " stride " << str(s) << " padding " << str(p)
            << " dilation " << str(d) << (with_bias ? " with bias" : " without bias"));
  Tensor x = param(xs, seed), w = param(ws, seed + 1), b = with_bias ? param({ws[0]}, seed + 2) : Tensor();
  Tensor y = conv2d(x, w, b, s, p, d);
  const std::size_t OH = (xs[2] + 2 * p.h - d.h * (ws[2] - 1) - 1) / s.h + 1;
  const std::size_t OW = (xs[3] + 2 * p.w - d.w * (ws[3] - 1) - 1) / s.w + 1;
  REQUIRE(y.shape() == Shape{xs[0], ws[0], OH, OW});
  Generator gen(seed + 3);
  Tensor g = randn(y.shape(), gen);
  y.backward(g);
  const ConvRef r = naive_conv(x, w, b, g, s, p, d);
  const std::size_t KK = ws[2] * ws[3], NP = xs[0] * OH * OW;
  check_close(y, r.y, xs[1] * KK + 1, "y");
  check_close(x.grad(), r.dx, ws[0] * KK, "dx");
  check_close(w.grad(), r.dw, NP, "dw");
  if (with_bias) check_close(b.grad(), r.db, NP, "db");
}

// Direct pooling in double; the max-pool gradient goes to the first maximum, like PyTorch.
struct PoolRef {
  Ref y, dx;
};
PoolRef naive_pool(const Tensor& x, const Tensor& g, Size2 k, Size2 s, Size2 p, bool max) {
  const std::size_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), OH = g.size(2), OW = g.size(3);
  PoolRef r{Ref(g.numel()), Ref(x.numel())};
  for (std::size_t nc = 0; nc < N * C; ++nc)
    for (std::size_t oh = 0; oh < OH; ++oh)
      for (std::size_t ow = 0; ow < OW; ++ow) {
        const std::size_t yi = (nc * OH + oh) * OW + ow;
        double best = -INFINITY;
        std::size_t best_i = 0;
        for (int kh = 0; kh < k.h; ++kh)
          for (int kw = 0; kw < k.w; ++kw) {
            const long ih = long(oh) * s.h + kh - p.h, iw = long(ow) * s.w + kw - p.w;
            if (ih < 0 || iw < 0 || ih >= long(H) || iw >= long(W)) continue;
            const std::size_t xi = (nc * H + ih) * W + iw;
            if (max && x.data()[xi] > best) best = x.data()[xi], best_i = xi;
            if (!max) {
              r.y.add(yi, double(x.data()[xi]) / (k.h * k.w));
              r.dx.add(xi, double(g.data()[yi]) / (k.h * k.w));
            }
          }
        if (max) {
          r.y.add(yi, best);
          r.dx.add(best_i, g.data()[yi]);
        }
      }
  return r;
}

// Distinct values k / 10 in a shuffled order: max-pool windows have no ties, and a finite-difference
// step of 1e-2 never changes a window's winner.
Tensor separated(const Shape& shape, std::uint64_t seed) {
  const std::size_t n = numel(shape);
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = float(i) / 10.0f - float(n) / 20.0f;
  Generator gen(seed);
  for (std::size_t i = n; i > 1; --i) std::swap(v[i - 1], v[gen.below(i)]);
  return from_vector(v, shape).set_requires_grad();
}

}  // namespace

TEST_CASE("conv2d: a hand-computed example", "[conv_pool]") {
  Tensor x = from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}).set_requires_grad();
  Tensor w = from_vector({1, 2, 3, 4}, {1, 1, 2, 2}).set_requires_grad();
  Tensor b = from_vector({0.5f}, {1}).set_requires_grad();
  // y[i, j] = x[i, j] + 2 x[i, j+1] + 3 x[i+1, j] + 4 x[i+1, j+1] + 0.5
  Tensor y = conv2d(x, w, b);
  REQUIRE(y.shape() == Shape{1, 1, 2, 2});
  CHECK(y.to_vector() == std::vector<float>{37.5f, 47.5f, 67.5f, 77.5f});
  y.backward(ones(y.shape()));
  // With an all-ones upstream: dw = the sum of each tap's window, db = 4 outputs, dx[i, j] = the sum of the
  // weights that touch (i, j).
  CHECK(w.grad().to_vector() == std::vector<float>{12, 16, 24, 28});
  CHECK(b.grad().to_vector() == std::vector<float>{4});
  CHECK(x.grad().to_vector() == std::vector<float>{1, 3, 2, 4, 10, 6, 3, 7, 4});
  // Padding 1, stride 2: the windows start at (-1, -1), (-1, 1), (1, -1), (1, 1); padding reads 0.
  Tensor z = conv2d(x.detach(), w.detach(), Tensor(), 2, 1);
  CHECK(z.to_vector() == std::vector<float>{4, 18, 36, 77});
}

TEST_CASE("conv2d: values and gradients match direct loops", "[conv_pool]") {
  // Several channels and a rectangular kernel; one input channel; one sample (OpenBLAS threads the GEMM);
  // a 1x1 kernel (no im2col at stride 1 without padding).
  const std::vector<std::pair<Shape, Shape>> nets = {{{3, 2, 7, 6}, {3, 2, 3, 2}},
                                                     {{2, 1, 6, 7}, {4, 1, 2, 3}},
                                                     {{1, 3, 6, 6}, {2, 3, 3, 3}},
                                                     {{2, 3, 5, 4}, {2, 3, 1, 1}}};
  std::vector<std::tuple<Size2, Size2, Size2>> geometries;
  for (int s : {1, 2})
    for (int p : {0, 1, 2})
      for (int d : {1, 2}) geometries.emplace_back(s, p, d);
  geometries.emplace_back(Size2(1, 2), Size2(2, 0), Size2(2, 1));  // each axis its own
  std::uint64_t seed = 10;
  for (const auto& [xs, ws] : nets)
    for (const auto& [s, p, d] : geometries)
      for (bool with_bias : {true, false}) check_conv_against_loops(xs, ws, with_bias, s, p, d, seed += 4);
}

TEST_CASE("conv2d: threaded over the batch, values and gradients match direct loops", "[conv_pool]") {
  // Big enough (over 2^18 multiply-adds) for the kernels to thread over the batch; 19 samples do not
  // split evenly into the weight gradient's 16 chunks.
  check_conv_against_loops({19, 4, 16, 16}, {8, 4, 3, 3}, true, 1, 1, 1, 40);
  check_conv_against_loops({19, 4, 16, 16}, {8, 4, 3, 3}, true, 2, 2, 2, 44);
  check_conv_against_loops({19, 8, 16, 16}, {8, 8, 1, 1}, true, 1, 0, 1, 48);
}

TEST_CASE("conv2d: gradients by finite differences", "[conv_pool][gradcheck]") {
  // conv2d is linear in each input, so the central difference has no truncation error whatever h: h = 0.1
  // keeps float rounding of the forward (~1e-6 relative on O(1) outputs) below 1e-4 in the difference.
  GradcheckOptions options;
  options.step = 0.1;
  options.atol = 1e-3;
  options.rtol = 1e-3;
  const std::vector<std::tuple<Size2, Size2, Size2>> geometries = {
      {1, 0, 1}, {2, 1, 1}, {1, 2, 2}, {2, 1, 2}, {{2, 1}, {0, 1}, {1, 2}}};
  for (const auto& [s, p, d] : geometries) {
    INFO("stride " << str(s) << " padding " << str(p) << " dilation " << str(d));
    Tensor x = param({2, 2, 5, 4}, 1), w = param({3, 2, 2, 3}, 2), b = param({3}, 3);
    auto r = gradcheck([s = s, p = p, d = d](const std::vector<Tensor>& in) {
      return conv2d(in[0], in[1], in[2], s, p, d);
    }, {x, w, b}, options);
    INFO(r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("conv2d: only the inputs that require grad get one", "[conv_pool]") {
  Tensor x = param({2, 1, 5, 5}, 4).detach();  // data, like a network's input
  Tensor w = param({2, 1, 3, 3}, 5);
  Tensor y = conv2d(x, w, Tensor(), 1, 1);
  REQUIRE(y.requires_grad());
  y.backward(ones(y.shape()));
  CHECK_FALSE(x.grad().defined());
  CHECK(w.grad().defined());
  NoGradGuard no_grad;
  CHECK_FALSE(conv2d(x, w).requires_grad());
}

TEST_CASE("conv2d and pools: an empty batch gives an empty output and zero parameter gradients", "[conv_pool]") {
  Tensor x = zeros({0, 2, 6, 6}).set_requires_grad(), w = param({3, 2, 3, 3}, 6), b = param({3}, 7);
  Tensor y = max_pool2d(avg_pool2d(conv2d(x, w, b), 2), 2);
  REQUIRE(y.shape() == Shape{0, 3, 1, 1});
  y.backward(zeros(y.shape()));
  CHECK(x.grad().shape() == x.shape());
  CHECK(w.grad().to_vector() == std::vector<float>(w.numel(), 0.0f));
  CHECK(b.grad().to_vector() == std::vector<float>{0, 0, 0});
}

TEST_CASE("max_pool2d and avg_pool2d: hand-computed examples", "[conv_pool]") {
  Tensor x = from_vector({1, 5, 2, 0, 3, 4, 8, 1, 0, 9, 6, 7, 2, 1, 3, 5}, {1, 1, 4, 4}).set_requires_grad();
  Tensor g = from_vector({1, 2, 3, 4}, {1, 1, 2, 2});
  SECTION("max, 2x2 windows") {
    Tensor y = max_pool2d(x, 2);
    CHECK(y.to_vector() == std::vector<float>{5, 8, 9, 7});
    y.backward(g);
    CHECK(x.grad().to_vector() == std::vector<float>{0, 1, 0, 0, 0, 0, 2, 0, 0, 3, 0, 4, 0, 0, 0, 0});
  }
  SECTION("max, 3x3 windows, stride 2, padding 1: the 9 wins two windows") {
    Tensor y = max_pool2d(x, 3, 2, 1);
    CHECK(y.to_vector() == std::vector<float>{5, 8, 9, 9});
    y.backward(g);
    CHECK(x.grad().to_vector() == std::vector<float>{0, 1, 0, 0, 0, 0, 2, 0, 0, 7, 0, 0, 0, 0, 0, 0});
  }
  SECTION("avg, 2x2 windows") {
    Tensor y = avg_pool2d(x, 2);
    CHECK(y.to_vector() == std::vector<float>{3.25f, 2.75f, 3.0f, 5.25f});
    y.backward(g);
    CHECK(x.grad().to_vector() ==
          std::vector<float>{0.25f, 0.25f, 0.5f, 0.5f, 0.25f, 0.25f, 0.5f, 0.5f, 0.75f, 0.75f, 1, 1, 0.75f, 0.75f, 1, 1});
  }
  SECTION("avg, 3x3 windows, stride 2, padding 1: padding counts in the divisor") {
    Tensor y = avg_pool2d(x, 3, 2, 1);
    CHECK(y.to_vector() == std::vector<float>{13.0f / 9, 20.0f / 9, 19.0f / 9, 44.0f / 9});
    y.backward(g);
    // (1, 1) lies in all four windows: (1 + 2 + 3 + 4) / 9; (0, 0) in the first only.
    CHECK(x.grad().at({0, 0, 1, 1}) == Approx(10.0 / 9).epsilon(1e-6));
    CHECK(x.grad().at({0, 0, 0, 0}) == Approx(1.0 / 9).epsilon(1e-6));
    CHECK(x.grad().at({0, 0, 3, 3}) == Approx(4.0 / 9).epsilon(1e-6));
  }
}

TEST_CASE("pools: values and gradients match direct loops", "[conv_pool]") {
  struct Geometry {
    Size2 kernel;
    std::optional<Size2> stride;
    Size2 padding;
  };
  const std::vector<Geometry> geometries = {{2, std::nullopt, 0},  {3, 1, 1},
                                            {3, 2, 1},             {{3, 2}, 1, {1, 0}},
                                            {{2, 3}, Size2(2, 1), {1, 1}}, {{4, 5}, 2, 2}};
  int seed = 20;
  for (const Geometry& geo : geometries) {
    for (bool max : {true, false}) {
      const Size2 s = geo.stride.value_or(geo.kernel);
      INFO((max ? "max" : "avg") << " kernel " << str(geo.kernel) << " stride " << str(s) << " padding "
                                 << str(geo.padding));
      Tensor x = separated({2, 3, 7, 6}, ++seed);
      Tensor y = max ? max_pool2d(x, geo.kernel, geo.stride, geo.padding)
                     : avg_pool2d(x, geo.kernel, geo.stride, geo.padding);
      REQUIRE(y.shape() == Shape{2, 3, std::size_t((7 + 2 * geo.padding.h - geo.kernel.h) / s.h + 1),
                                 std::size_t((6 + 2 * geo.padding.w - geo.kernel.w) / s.w + 1)});
      Generator gen(++seed);
      Tensor g = randn(y.shape(), gen);
      y.backward(g);
      const PoolRef r = naive_pool(x, g, geo.kernel, s, geo.padding, max);
      const std::size_t window = std::size_t(geo.kernel.h * geo.kernel.w);
      check_close(y, r.y, window, "y");
      check_close(x.grad(), r.dx, window, "dx");
    }
  }
}

TEST_CASE("pools: gradients by finite differences", "[conv_pool][gradcheck]") {
  // Both pools are linear where no window's winner changes; the values are 0.1 apart and h = 1e-2, so no
  // tie is crossed and the central difference is exact up to float rounding (~1e-6 of O(1) values).
  GradcheckOptions options;
  options.step = 1e-2;
  options.atol = 1e-3;
  options.rtol = 1e-3;
  const std::vector<std::tuple<Size2, Size2, Size2>> geometries = {{2, 2, 0}, {3, 2, 1}, {{3, 2}, {1, 2}, {1, 0}}};
  for (const auto& [k, s, p] : geometries) {
    INFO("kernel " << str(k) << " stride " << str(s) << " padding " << str(p));
    Tensor x = separated({2, 2, 5, 6}, 7);
    auto rmax = gradcheck([k = k, s = s, p = p](const std::vector<Tensor>& in) {
      return max_pool2d(in[0], k, s, p);
    }, {x}, options);
    INFO(rmax.message);
    CHECK(rmax.ok);
    auto ravg = gradcheck([k = k, s = s, p = p](const std::vector<Tensor>& in) {
      return avg_pool2d(in[0], k, s, p);
    }, {x}, options);
    INFO(ravg.message);
    CHECK(ravg.ok);
  }
}

TEST_CASE("max_pool2d: a NaN wins its window and -inf padding never does", "[conv_pool]") {
  Tensor x = from_vector({-5, NAN, -7, -8}, {1, 1, 2, 2});
  CHECK(std::isnan(max_pool2d(x, 2).item()));
  // Every value is below 0; padding must not contribute a 0.
  CHECK(max_pool2d(x, 2, 1, 1).at({0, 0, 0, 0}) == -5.0f);
}

TEST_CASE("conv2d: bad arguments name the shapes and values", "[conv_pool][errors]") {
  Tensor x = zeros({2, 3, 5, 5}), w = zeros({4, 3, 3, 3});
  CHECK_THROWS_WITH(conv2d(zeros({3, 5, 5}), w),
                    Catch::Contains("conv2d") && Catch::Contains("(N, C, H, W)") && Catch::Contains("(3, 5, 5)"));
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 3, 3})),
                    Catch::Contains("conv2d") && Catch::Contains("(O, C, KH, KW)") && Catch::Contains("(4, 3, 3)"));
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 2, 3, 3})), Catch::Contains("conv2d") && Catch::Contains("(2, 3, 5, 5)") &&
                                                        Catch::Contains("(4, 2, 3, 3)") && Catch::Contains("channels"));
  CHECK_THROWS_WITH(conv2d(x, w, zeros({3})),
                    Catch::Contains("bias") && Catch::Contains("(4)") && Catch::Contains("(3)"));
  CHECK_THROWS_WITH(conv2d(x, w, zeros({4, 1})), Catch::Contains("bias") && Catch::Contains("(4, 1)"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), {1, 0}), Catch::Contains("stride") && Catch::Contains("(1, 0)"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), 1, {-1, 0}), Catch::Contains("padding") && Catch::Contains("(-1, 0)"));
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), 1, 0, 0), Catch::Contains("dilation") && Catch::Contains("(0, 0)"));
  // A 3x3 kernel at dilation 3 spans 7 > 5 + 2 * 0.
  CHECK_THROWS_WITH(conv2d(x, w, Tensor(), 1, 0, 3),
                    Catch::Contains("conv2d") && Catch::Contains("(5, 5)") && Catch::Contains("(3, 3)") &&
                        Catch::Contains("padding (0, 0)") && Catch::Contains("dilation (3, 3)"));
  CHECK_NOTHROW(conv2d(x, w, Tensor(), 1, 1, 3));  // with padding 1 it fits: 5 + 2 >= 7
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 3, 6, 1})), Catch::Contains("(6, 1)") && Catch::Contains("(5, 5)"));
  CHECK_THROWS_WITH(conv2d(Tensor(), w), Catch::Contains("conv2d") && Catch::Contains("undefined"));
}

TEST_CASE("pools: bad arguments name the shapes and values", "[conv_pool][errors]") {
  Tensor x = zeros({1, 2, 4, 4});
  for (const char* op : {"max_pool2d", "avg_pool2d"}) {
    const bool max = std::string(op) == "max_pool2d";
    auto pool = [max](const Tensor& in, Size2 k, std::optional<Size2> s, Size2 p) {
      return max ? max_pool2d(in, k, s, p) : avg_pool2d(in, k, s, p);
    };
    CHECK_THROWS_WITH(pool(zeros({2, 4, 4}), 2, std::nullopt, 0),
                      Catch::Contains(op) && Catch::Contains("(2, 4, 4)"));
    CHECK_THROWS_WITH(pool(x, {0, 2}, std::nullopt, 0), Catch::Contains(op) && Catch::Contains("kernel") &&
                                                            Catch::Contains("(0, 2)"));
    CHECK_THROWS_WITH(pool(x, 2, Size2(0), 0), Catch::Contains(op) && Catch::Contains("stride") &&
                                                   Catch::Contains("(0, 0)"));
    CHECK_THROWS_WITH(pool(x, 3, 1, {0, -1}), Catch::Contains(op) && Catch::Contains("(0, -1)"));
    // PyTorch's rule: padding at most half the kernel.
    CHECK_THROWS_WITH(pool(x, 3, 1, 2), Catch::Contains(op) && Catch::Contains("half") &&
                                            Catch::Contains("padding (2, 2)") && Catch::Contains("(3, 3)"));
    CHECK_NOTHROW(pool(x, 2, 1, 1));
    CHECK_THROWS_WITH(pool(x, {5, 2}, std::nullopt, 0), Catch::Contains(op) && Catch::Contains("(5, 2)") &&
                                                            Catch::Contains("(4, 4)"));
  }
}

TEST_CASE("conv2d and pools: reruns are bit-identical, whatever the thread count", "[conv_pool][determinism]") {
  // Sizes that the kernels thread. 20 samples: the weight gradient sums 16 chunks of one or two samples.
  auto run = [](int threads) {
    omp_set_num_threads(threads);
    Tensor x = param({20, 3, 12, 12}, 30), w = param({8, 3, 3, 3}, 31), b = param({8}, 32);
    Tensor y = avg_pool2d(max_pool2d(conv2d(x, w, b, 1, 1), 2, 1), 3, 1, 1);
    Generator gen(33);
    y.backward(randn(y.shape(), gen));
    std::vector<float> all = y.to_vector();
    for (const Tensor& t : {x.grad(), w.grad(), b.grad()}) {
      const std::vector<float> v = t.to_vector();
      all.insert(all.end(), v.begin(), v.end());
    }
    return all;
  };
  const int threads = omp_get_max_threads();
  const std::vector<float> first = run(threads);
  CHECK(run(threads) == first);
  CHECK(run(1) == first);
  CHECK(run(2) == first);
  omp_set_num_threads(threads);
}
