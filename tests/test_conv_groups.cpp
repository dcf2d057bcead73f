// Conv2d's groups (depthwise when groups == in_channels) and dilation: conv2d against plain loops in
// double, forward and all three gradients; finite-difference checks; a grouped convolution equals its
// groups' separate convolutions; bit-identical at any thread count; the layer's options, checks, messages
// and output size.
#include <omp.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <tuple>
#include <vector>

#include "checkpoint_fixtures.hpp"
#include "gradcheck.hpp"
#include "xgrad/models/checkpoint_format.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using Catch::Contains;
using xgrad::testing::random_param;

// Everything in a namespace of its own: the unit tests are compiled ten files to a translation unit.
namespace conv_groups_test {

struct Geometry {
  Shape x, w;  // (N, C, H, W), (O, C / G, KH, KW)
  Size2 stride, padding, dilation;
  int groups;
};

int out_len(int in, int k, int s, int p, int d) { return (in + 2 * p - d * (k - 1) - 1) / s + 1; }

// y[n, o, i, j] = b[o] + sum over c in o's group, kh, kw of x[n, c, i s + kh d - p, j s + kw d - p] w[o, c', kh, kw],
// and the three gradients for an upstream g, all as plain loops in double.
struct Naive {
  std::vector<double> y, dx, dw, db;
};
Naive naive_conv(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& g, const Geometry& q) {
  const int N = int(q.x[0]), C = int(q.x[1]), H = int(q.x[2]), W = int(q.x[3]);
  const int O = int(q.w[0]), Cg = int(q.w[1]), KH = int(q.w[2]), KW = int(q.w[3]), Og = O / q.groups;
  const int OH = out_len(H, KH, q.stride.h, q.padding.h, q.dilation.h);
  const int OW = out_len(W, KW, q.stride.w, q.padding.w, q.dilation.w);
  Naive r;
  r.y.assign(std::size_t(N) * O * OH * OW, 0.0);
  r.dx.assign(x.numel(), 0.0);
  r.dw.assign(w.numel(), 0.0);
  r.db.assign(O, 0.0);
  const float *X = x.data(), *Wt = w.data(), *G = g.data();
  for (int n = 0; n < N; ++n)
    for (int o = 0; o < O; ++o)
      for (int i = 0; i < OH; ++i)
        for (int j = 0; j < OW; ++j) {
          const std::size_t yi = ((std::size_t(n) * O + o) * OH + i) * OW + j;
          double acc = b.defined() ? b.data()[o] : 0.0;
          const double up = G[yi];
          r.db[o] += up;
          for (int cc = 0; cc < Cg; ++cc) {
            const int c = (o / Og) * Cg + cc;
            for (int kh = 0; kh < KH; ++kh)
              for (int kw = 0; kw < KW; ++kw) {
                const int h = i * q.stride.h + kh * q.dilation.h - q.padding.h;
                const int v = j * q.stride.w + kw * q.dilation.w - q.padding.w;
                if (h < 0 || h >= H || v < 0 || v >= W) continue;
                const std::size_t xi = ((std::size_t(n) * C + c) * H + h) * W + v;
                const std::size_t wi = ((std::size_t(o) * Cg + cc) * KH + kh) * KW + kw;
                acc += double(X[xi]) * Wt[wi];
                r.dx[xi] += up * Wt[wi];
                r.dw[wi] += up * X[xi];
              }
          }
          r.y[yi] = acc;
        }
  return r;
}

void check_close(const Tensor& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.numel() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("element " << i);
    REQUIRE(std::abs(got.data()[i] - want[i]) <= tol * (1.0 + std::abs(want[i])));
  }
}

const std::vector<Geometry> kGeometries = {
    {{2, 4, 7, 6}, {6, 2, 3, 3}, 1, 1, 1, 2},        // groups 2
    {{2, 3, 9, 8}, {4, 3, 3, 2}, 1, 2, 2, 1},        // dilation 2 (groups 1: the reference twin)
    {{3, 4, 8, 8}, {4, 1, 3, 3}, 1, 1, 1, 4},        // depthwise
    {{2, 3, 7, 9}, {6, 1, 3, 3}, 2, 1, 1, 3},        // depthwise, 2 filters per channel, stride 2
    {{2, 4, 11, 10}, {6, 2, 3, 3}, 2, 2, 2, 2},      // groups 2 with stride, padding and dilation
    {{2, 6, 9, 9}, {6, 1, 3, 3}, {2, 1}, {3, 1}, {3, 2}, 6},  // depthwise, uneven stride/padding/dilation
    {{2, 6, 5, 5}, {9, 2, 1, 1}, 1, 0, 1, 3},        // grouped pointwise (no unfolding)
};


TEST_CASE("conv2d with groups and dilation equals plain loops, forward and gradients", "[conv_groups]") {
  std::uint64_t seed = 10;
  for (const Geometry& q : kGeometries) {
    INFO("x " << shape_str(q.x) << " w " << shape_str(q.w) << " groups " << q.groups << " dilation "
              << q.dilation.h << "," << q.dilation.w);
    for (bool with_bias : {true, false}) {
      Tensor x = random_param(q.x, ++seed), w = random_param(q.w, ++seed);
      Tensor b = with_bias ? random_param({q.w[0]}, ++seed) : Tensor();
      Tensor y = conv2d(x, w, b, q.stride, q.padding, q.dilation, q.groups);
      Generator gen(++seed);
      const Tensor g = randn(y.shape(), gen);
      const Naive want = naive_conv(x, w, b, g, q);
      check_close(y, want.y, 1e-5);
      y.backward(g);
      check_close(x.grad(), want.dx, 1e-5);
      check_close(w.grad(), want.dw, 1e-5);
      if (with_bias) check_close(b.grad(), want.db, 1e-5);
    }
  }
}

TEST_CASE("conv2d with groups and dilation: gradients by finite differences", "[conv_groups][gradcheck]") {
  // Linear in each input: the central difference has no truncation error, so h = 0.1 keeps the forward's
  // float rounding (~1e-6 relative) small in the difference, as conv2d's own check.
  GradcheckOptions options;
  options.step = 0.1;
  options.atol = 1e-3;
  options.rtol = 1e-3;
  std::uint64_t seed = 100;
  for (const Geometry& q : kGeometries) {
    INFO("x " << shape_str(q.x) << " w " << shape_str(q.w) << " groups " << q.groups);
    Shape xs = q.x;
    xs[0] = 1;  // one sample is enough, and keeps the check fast
    Tensor x = random_param(xs, ++seed), w = random_param(q.w, ++seed), b = random_param({q.w[0]}, ++seed);
    auto r = gradcheck([q](const std::vector<Tensor>& in) {
      return conv2d(in[0], in[1], in[2], q.stride, q.padding, q.dilation, q.groups);
    }, {x, w, b}, options);
    INFO(r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("a grouped convolution equals its groups' separate convolutions", "[conv_groups]") {
  // The composition as the reference (tinygrad's habit): slice the channels and the filters per group,
  // convolve with groups = 1, concatenate.
  Generator gen(5);
  const int G = 3;
  const Tensor x = randn({2, 6, 8, 8}, gen), w = randn({9, 2, 3, 3}, gen), b = randn({9}, gen);
  const Tensor y = conv2d(x, w, b, 1, 2, 2, G);
  std::vector<Tensor> parts;
  for (int g = 0; g < G; ++g) {
    std::vector<float> xi, wi(w.data() + g * 3 * 18, w.data() + (g + 1) * 3 * 18), bi(b.data() + g * 3, b.data() + g * 3 + 3);
    for (int n = 0; n < 2; ++n) xi.insert(xi.end(), x.data() + (n * 6 + g * 2) * 64, x.data() + (n * 6 + g * 2 + 2) * 64);
    parts.push_back(conv2d(from_vector(xi, {2, 2, 8, 8}), from_vector(wi, {3, 2, 3, 3}), from_vector(bi, {3}), 1, 2, 2));
  }
  const Shape ys = y.shape();
  REQUIRE(ys == Shape{2, 9, 8, 8});
  for (int n = 0; n < 2; ++n)
    for (int g = 0; g < G; ++g)
      for (int i = 0; i < 3 * 64; ++i) {
        const float got = y.data()[(n * 9 + g * 3) * 64 + i], want = parts[g].data()[n * 3 * 64 + i];
        REQUIRE(std::abs(got - want) <= 1e-5f * (1.0f + std::abs(want)));
      }
}

TEST_CASE("grouped and depthwise convolution are bit-identical at 1 and 2 threads", "[conv_groups]") {
  const int before = omp_get_max_threads();
  // Large enough to take the threaded branches (>= 2^18 multiply-adds) and 17 samples for 16 chunks;
  // groups 4 (the GEMM path) and depthwise with 2 filters per channel (the direct loops).
  for (const auto& [w_shape, groups] : {std::pair{Shape{16, 2, 3, 3}, 4}, std::pair{Shape{16, 1, 3, 3}, 8}}) {
    INFO("groups " << groups);
    std::vector<std::vector<float>> runs[2];
    for (int t = 0; t < 2; ++t) {
      omp_set_num_threads(t + 1);
      Tensor x = random_param({17, 8, 32, 32}, 1), w = random_param(w_shape, 2), b = random_param({16}, 3);
      Tensor y = conv2d(x, w, b, 1, 2, 2, groups);
      Generator gen(4);
      y.backward(randn(y.shape(), gen));
      runs[t] = {y.to_vector(), x.grad().to_vector(), w.grad().to_vector(), b.grad().to_vector()};
    }
    CHECK(runs[0] == runs[1]);
  }
  omp_set_num_threads(before);
}

TEST_CASE("conv2d refuses channels that groups does not divide, naming the values", "[conv_groups]") {
  const Tensor x = zeros({1, 6, 5, 5});
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 2, 3, 3}), Tensor(), 1, 0, 1, 4),
                    Contains("conv2d: the input's 6 channels are not divisible by groups 4"));
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 2, 3, 3}), Tensor(), 1, 0, 1, 3),
                    Contains("conv2d: the weight's 4 filters are not divisible by groups 3"));
  CHECK_THROWS_WITH(conv2d(x, zeros({6, 3, 3, 3}), Tensor(), 1, 0, 1, 3),
                    Contains("with groups 3 the weight (6, 3, 3, 3) must have 2 input channels"));
  CHECK_THROWS_WITH(conv2d(x, zeros({6, 6, 3, 3}), Tensor(), 1, 0, 1, 0), Contains("groups must be >= 1, got 0"));
}

TEST_CASE("Conv2d: dilation and groups options, PyTorch's output size and checked constructor", "[conv_groups]") {
  Generator gen(6);
  Conv2d depthwise(Conv2dOptions{.in_channels = 8, .out_channels = 16, .kernel_size = 3, .stride = 2,
                                 .padding = 2, .dilation = 2, .groups = 8}, gen);
  CHECK(depthwise.weight().shape() == Shape{16, 1, 3, 3});
  CHECK(depthwise.describe() == "Conv2d(8, 16, kernel_size=3, stride=2, padding=2, dilation=2, groups=8)");
  // OH = floor((H + 2 p - d (k - 1) - 1) / s) + 1 = floor((15 + 4 - 4 - 1) / 2) + 1 = 8.
  CHECK(depthwise(zeros({2, 8, 15, 12})).shape() == Shape{2, 16, 8, 6});
  // Initial values ~ U(-1/sqrt(fan_in), ...) with fan_in = (in / groups) * 3 * 3 = 9, as PyTorch.
  const float bound = 1.0f / 3.0f;
  for (float v : depthwise.weight().to_vector()) CHECK(std::abs(v) <= bound);
  CHECK(Conv2d(Conv2dOptions{.in_channels = 4, .out_channels = 4, .kernel_size = 3, .padding = "same",
                             .dilation = 2, .groups = 2}, gen)(zeros({1, 4, 9, 9})).shape() == Shape{1, 4, 9, 9});

  auto make = [&](int in, int out, int groups, Size2 dilation) {
    return Conv2d(Conv2dOptions{.in_channels = in, .out_channels = out, .kernel_size = 3, .dilation = dilation,
                                .groups = groups}, gen);
  };
  CHECK_THROWS_WITH(make(6, 8, 4, 1), Contains("Conv2d: in_channels 6 is not divisible by groups 4"));
  CHECK_THROWS_WITH(make(8, 6, 4, 1), Contains("Conv2d: out_channels 6 is not divisible by groups 4"));
  CHECK_THROWS_WITH(make(8, 8, 0, 1), Contains("Conv2d: groups must be >= 1, got 0"));
  CHECK_THROWS_WITH(make(8, 8, 1, Size2(1, 0)), Contains("Conv2d: dilation (1, 0) must be positive"));
}

TEST_CASE("Conv2d with groups: clone keeps it, fuse_conv_bn folds it", "[conv_groups]") {
  Generator gen(7);
  Sequential net;
  net.add(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 4, .out_channels = 8, .kernel_size = 3,
                                                 .padding = 1, .groups = 4, .bias = false}, gen));
  net.add(std::make_shared<BatchNorm2d>(8));
  const Tensor x = randn({3, 4, 6, 6}, gen);
  net(x);  // move the running statistics
  net.eval();
  const Tensor y = net(x);
  auto copy = clone_module(net);
  CHECK(copy->forward(x).to_vector() == y.to_vector());
  CHECK(copy->at<Conv2d>(0)->options().groups == 4);
  auto fused = fuse_conv_bn(net);
  const Tensor z = fused->forward(x);
  for (std::size_t i = 0; i < y.numel(); ++i) REQUIRE(std::abs(z.data()[i] - y.data()[i]) <= 1e-4f);
}

TEST_CASE("Conv2d's dilation and groups are written in checkpoints and checked on load", "[conv_groups][checkpoint]") {
  using xgrad::checkpoint_format::Json;
  xgrad::testing::TempDir dir;
  const std::string path = dir.file("weights.json"), older = dir.file("older.json");
  auto make = [](Size2 dilation) {
    Generator gen(8);
    Sequential net;
    net.add(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 4, .out_channels = 4, .kernel_size = 3,
                                                   .padding = 2, .dilation = dilation, .groups = 2}, gen));
    return net;
  };
  Sequential saved = make(2);
  save_weights(path, saved);
  Json doc = Json::parse(xgrad::testing::read_text(path));
  CHECK(doc["model"]["conv2d"]["0"]["dilation"] == Json::array({2, 2}));
  CHECK(doc["model"]["conv2d"]["0"]["groups"] == 2);

  Sequential same = make(2);
  load_weights(path, same);
  const Tensor x = randn({1, 4, 6, 6}, *std::make_unique<Generator>(9));
  CHECK(same(x).to_vector() == saved(x).to_vector());
  // Dilation 1 has the same weight shape: only the recorded setting tells the models apart.
  Sequential other = make(1);
  CHECK_THROWS_WITH(load_weights(path, other), Contains("/model/conv2d/0/dilation") && Contains("is [2, 2]") &&
                                                   Contains("has dilation [1, 1]"));
  // A file from before the settings were written loads as it always did.
  doc.erase("checksum");
  doc["model"].erase("conv2d");
  xgrad::testing::write_text(older, doc.dump());
  load_weights(older, other);
  CHECK(other.named_parameters()[0].second.to_vector() == saved.named_parameters()[0].second.to_vector());
  // A model without Conv2d writes no "conv2d" entry: such files are as before.
  Sequential dense;
  dense.add(std::make_shared<Dense>(2, 2, *std::make_unique<Generator>(1)));
  save_weights(path, dense);
  CHECK(xgrad::testing::read_text(path).find("conv2d") == std::string::npos);
}

}  // namespace conv_groups_test
