// The fast kernel paths (AVX-512 convolution, pooling and batch norm; threaded gemm) against the reference paths on the same inputs, on shapes that reach every tail: widths past one
// 16-lane chunk and not a multiple of it, channel counts off the register tiles, odd pooling sizes, NaN
// and ties. Convolutions are also checked against a direct double-precision loop with the rounding bound
// of a float sum. Skipped checks say so: on a CPU without AVX-512 only the reference paths run.
#include <omp.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <tuple>
#include <vector>

#include "fast_paths.hpp"
#include "skip.hpp"
#include "xgrad/core/kernels/batch_norm.hpp"
#include "xgrad/core/kernels/conv2d.hpp"
#include "xgrad/core/kernels/cpu_features.hpp"
#include "xgrad/core/kernels/dispatch.hpp"
#include "xgrad/core/kernels/gemm.hpp"
#include "xgrad/core/kernels/pool2d.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using namespace xgrad::testing;

namespace {

std::vector<float> random_values(std::size_t n, std::uint64_t seed) {
  Generator gen(seed);
  return randn({n}, gen).to_vector();
}

kernels::Conv2dDims conv_dims(int N, int C, int H, int W, int O, int K, int P) {
  return {.N = N, .C = C, .H = H, .W = W, .O = O, .KH = K, .KW = K, .SH = 1, .SW = 1, .PH = P, .PW = P,
          .DH = 1, .DW = 1, .OH = H + 2 * P - K + 1, .OW = W + 2 * P - K + 1};
}

// |a - b| within the bound of two float sums of `terms` products around the exact value (each within
// (terms + 1) 2^-24 sum|terms|, the factor 2 for the two of them), sum|terms| computed here in double.
void check_conv_close(const std::vector<float>& fast, const std::vector<float>& ref, const std::vector<double>& mag,
                      std::size_t terms, const char* what) {
  REQUIRE(fast.size() == ref.size());
  const double unit = std::ldexp(1.0, -24);
  for (std::size_t i = 0; i < fast.size(); ++i) {
    const double tol = 4.0 * double(terms + 1) * unit * mag[i] + 1e-30;
    if (std::fabs(double(fast[i]) - double(ref[i])) > tol) {
      FAIL_CHECK(what << " element " << i << ": fast " << fast[i] << " vs reference " << ref[i]);
      return;
    }
  }
}

}  // namespace

TEST_CASE("fast conv2d passes agree with the im2col reference on tail shapes", "[kernels][perf_paths]") {
  if (!kernels::cpu_has_avx512()) {
    XGRAD_SKIP("no AVX-512 on this CPU: the fast convolution is never taken");
  }
  FastPaths on(true);
  // (N, C, H, W, O, kernel, padding): one input channel, widths 5, 16, 28 and 37 (one, two and three
  // chunks of 16), channels off the 8-row tile (O = 3, 13), a 1x1 and a 5x5 kernel, padding 0 to 2; and
  // narrow outputs (8 x 8, 4 x 4, 2 x 2, one row, one column), whose chunks run across the padded rows,
  // and weight gradients by outer products (O a multiple of 16, C KH KW >= 64: 16 or 32 channels per tile,
  // taps by 12, then 8, 4 and 1; a weight of more than 128 Ki values in 8 chunks of the batch, not 16).
  const std::vector<std::array<int, 7>> shapes = {{3, 1, 28, 28, 16, 3, 1}, {2, 16, 14, 14, 32, 3, 1},
                                                  {5, 3, 9, 37, 13, 3, 0},  {2, 5, 16, 16, 3, 5, 2},
                                                  {1, 7, 6, 5, 9, 1, 0},    {17, 2, 8, 11, 4, 3, 1},
                                                  {3, 9, 8, 8, 16, 3, 1},   {2, 16, 4, 4, 11, 3, 1},
                                                  {2, 3, 2, 2, 5, 3, 1},    {2, 4, 1, 9, 3, 3, 1},
                                                  {3, 3, 7, 3, 4, 3, 0},    {19, 11, 4, 4, 48, 3, 1},
                                                  {2, 10, 8, 8, 32, 3, 1},  {9, 64, 4, 4, 256, 3, 1}};
  for (const auto& s : shapes) {
    const kernels::Conv2dDims d = conv_dims(s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
    CAPTURE(d.N, d.C, d.H, d.W, d.O, d.KH, d.PH);
    REQUIRE(kernels::conv2d_path(d) == kernels::KernelPath::Avx512);
    const auto x = random_values(std::size_t(d.N) * d.C * d.H * d.W, 1);
    const auto w = random_values(std::size_t(d.O) * d.C * d.KH * d.KW, 2);
    const auto b = random_values(std::size_t(d.O), 3);
    const auto g = random_values(std::size_t(d.N) * d.O * d.OH * d.OW, 4);
    std::vector<float> y_ref(g.size()), dx_ref(x.size()), dw_ref(w.size());
    {
      FastPaths off(false);
      kernels::conv2d_forward_reference(y_ref.data(), x.data(), w.data(), b.data(), d);
      kernels::conv2d_backward_input_reference(dx_ref.data(), g.data(), w.data(), d);
      kernels::conv2d_backward_weight_reference(dw_ref.data(), g.data(), x.data(), d);
    }
    std::vector<float> y(g.size()), dx(x.size()), dw(w.size());
    std::vector<float> xpad(kernels::conv2d_padded_input_size(d)), work(kernels::conv2d_workspace_size(d));
    kernels::conv2d_forward_avx512(y.data(), xpad.data(), x.data(), w.data(), b.data(), work.data(), d);
    kernels::conv2d_backward_input_avx512(dx.data(), g.data(), w.data(), work.data(), d);
    kernels::conv2d_backward_weight_avx512(dw.data(), g.data(), xpad.data(), work.data(), d);
    // Without xpad (inference) each thread pads its own image: the same output, bit for bit.
    std::vector<float> y_no_pad(g.size());
    kernels::conv2d_forward_avx512(y_no_pad.data(), nullptr, x.data(), w.data(), b.data(), work.data(), d);
    CHECK(same_bits(y_no_pad, y));

    // sum|terms| of every output, from the direct loops in double.
    std::vector<double> y_mag(y.size(), 0.0), dx_mag(x.size(), 0.0), dw_mag(w.size(), 0.0);
    for (int n = 0; n < d.N; ++n) {
      for (int o = 0; o < d.O; ++o) {
        for (int oh = 0; oh < d.OH; ++oh) {
          for (int ow = 0; ow < d.OW; ++ow) {
            const std::size_t yi = ((std::size_t(n) * d.O + o) * d.OH + oh) * d.OW + ow;
            y_mag[yi] += std::fabs(b[o]);
            for (int c = 0; c < d.C; ++c) {
              for (int kh = 0; kh < d.KH; ++kh) {
                for (int kw = 0; kw < d.KW; ++kw) {
                  const int h = oh + kh - d.PH, ww = ow + kw - d.PW;
                  if (h < 0 || h >= d.H || ww < 0 || ww >= d.W) continue;
                  const std::size_t xi = ((std::size_t(n) * d.C + c) * d.H + h) * d.W + ww;
                  const std::size_t wi = ((std::size_t(o) * d.C + c) * d.KH + kh) * d.KW + kw;
                  y_mag[yi] += std::fabs(double(w[wi]) * x[xi]);
                  dx_mag[xi] += std::fabs(double(w[wi]) * g[yi]);
                  dw_mag[wi] += std::fabs(double(x[xi]) * g[yi]);
                }
              }
            }
          }
        }
      }
    }
    check_conv_close(y, y_ref, y_mag, std::size_t(d.C) * d.KH * d.KW + 1, "forward");
    check_conv_close(dx, dx_ref, dx_mag, std::size_t(d.O) * d.KH * d.KW, "input gradient");
    check_conv_close(dw, dw_ref, dw_mag, std::size_t(d.N) * d.OH * d.OW, "weight gradient");
  }
}

TEST_CASE("fast conv2d is bit-identical across reruns and the op takes it", "[kernels][perf_paths]") {
  if (!kernels::cpu_has_avx512()) {
    XGRAD_SKIP("no AVX-512 on this CPU: the fast convolution is never taken");
  }
  FastPaths on(true);
  // The weight gradient of the second and third shapes runs by outer products (the third's in 8 chunks of
  // the batch), the first's by dot products.
  // (No structured binding: clang before 16 cannot capture one in a lambda.)
  const auto row =
      GENERATE(table<Shape, std::size_t>({{{6, 4, 12, 19}, 5}, {{20, 8, 8, 8}, 32}, {{10, 64, 4, 4}, 256}}));
  const Shape shape = std::get<0>(row);
  const std::size_t filters = std::get<1>(row);
  auto run = [&shape, filters] {
    Generator gen(7);
    Tensor x = randn(shape, gen).set_requires_grad();
    Tensor w = randn({filters, shape[1], 3, 3}, gen).set_requires_grad();
    Tensor b = randn({filters}, gen).set_requires_grad();
    Tensor y = conv2d(x, w, b, 1, 1);
    Tensor u = randn(y.shape(), gen);
    y.backward(u);
    std::vector<float> all = y.to_vector();
    for (const Tensor& t : {x.grad(), w.grad(), b.grad()}) {
      const auto v = t.to_vector();
      all.insert(all.end(), v.begin(), v.end());
    }
    return all;
  };
  const auto first = run();
  CHECK(same_bits(first, run()));
  // Nor does the thread count change a bit (the weight gradient's chunks do not depend on it).
  const int threads = omp_get_max_threads();
  for (int t : {1, 3}) {
    omp_set_num_threads(t);
    CHECK(same_bits(first, run()));
  }
  omp_set_num_threads(threads);
  // The reference path gives the same values to rounding, not the same bits: the sums run in another order.
  std::vector<float> reference;
  {
    FastPaths off(false);
    reference = run();
  }
  REQUIRE(reference.size() == first.size());
  for (std::size_t i = 0; i < first.size(); ++i) CHECK(first[i] == Approx(reference[i]).margin(1e-4).epsilon(1e-4));
}

TEST_CASE("fast 2x2 max pooling matches the reference bit for bit, NaN and ties included", "[kernels][perf_paths]") {
  if (!kernels::cpu_has_avx512()) {
    XGRAD_SKIP("no AVX-512 on this CPU: the fast pooling is never taken");
  }
  FastPaths on(true);
  // Heights and widths odd and even, one and several 16-output chunks per row.
  for (auto [H, W] : {std::pair{28, 28}, std::pair{14, 14}, std::pair{7, 9}, std::pair{5, 70}, std::pair{2, 2}}) {
    CAPTURE(H, W);
    const kernels::Pool2dDims d{.N = 3, .C = 5, .H = H, .W = W, .KH = 2, .KW = 2, .SH = 2, .SW = 2, .PH = 0,
                                .PW = 0, .OH = H / 2, .OW = W / 2};
    auto x = random_values(std::size_t(d.N) * d.C * H * W, 11);
    // Ties (repeated values) and NaNs at a few places; -0 gradients to check the sign of zero.
    for (std::size_t i = 0; i + 1 < x.size(); i += 7) x[i + 1] = x[i];
    for (std::size_t i = 3; i < x.size(); i += 29) x[i] = std::numeric_limits<float>::quiet_NaN();
    auto g = random_values(std::size_t(d.N) * d.C * d.OH * d.OW, 12);
    for (std::size_t i = 0; i < g.size(); i += 5) g[i] = -0.0f;
    std::vector<float> y_ref(g.size()), y(g.size()), dx_ref(x.size()), dx(x.size(), 123.0f);
    std::vector<std::int32_t> a_ref(g.size()), a(g.size());
    {
      FastPaths off(false);
      kernels::max_pool2d_forward(y_ref.data(), a_ref.data(), x.data(), d);
      kernels::max_pool2d_backward(dx_ref.data(), g.data(), a_ref.data(), d);
    }
    kernels::max_pool2d_forward(y.data(), a.data(), x.data(), d);
    kernels::max_pool2d_backward(dx.data(), g.data(), a.data(), d);
    CHECK(same_bits(y, y_ref));
    CHECK(a == a_ref);
    CHECK(same_bits(dx, dx_ref));
  }
}

TEST_CASE("fast batch norm agrees with the reference loops", "[kernels][perf_paths]") {
  if (!kernels::cpu_has_avx512()) {
    XGRAD_SKIP("no AVX-512 on this CPU: the fast batch norm is never taken");
  }
  FastPaths on(true);
  // Planes (HW > 1, not a multiple of 8) and rows (HW = 1, C not a multiple of 8); with and without affine.
  for (const auto& shape : {std::array{4, 3, 13}, std::array{2, 5, 49}, std::array{7, 11, 1}, std::array{3, 16, 1}}) {
    // Plain copies: clang 14 cannot capture structured bindings in the lambda below.
    const std::size_t N = shape[0], C = shape[1], HW = shape[2];
    for (bool affine : {true, false}) {
      CAPTURE(N, C, HW, affine);
      auto x = random_values(std::size_t(N) * C * HW, 21);
      for (float& v : x) v = 3.0f + 2.0f * v;  // a mean away from 0 exercises the shifted sums
      const auto g = random_values(x.size(), 22), gamma = random_values(C, 23), beta = random_values(C, 24);
      const float* gm = affine ? gamma.data() : nullptr;
      const float* bt = affine ? beta.data() : nullptr;
      struct Out {
        std::vector<float> y, mean, var, rstd, dx, dgamma, dbeta;
      };
      auto run = [&](bool fast) {
        FastPaths paths(fast);
        Out o{std::vector<float>(x.size()), std::vector<float>(C), std::vector<float>(C), std::vector<float>(C),
              std::vector<float>(x.size()), std::vector<float>(C), std::vector<float>(C)};
        kernels::batch_norm_forward(o.y.data(), o.mean.data(), o.var.data(), o.rstd.data(), x.data(), gm, bt, N, C,
                                    HW, 1e-5f);
        kernels::batch_norm_backward(o.dx.data(), o.dgamma.data(), o.dbeta.data(), g.data(), x.data(),
                                     o.mean.data(), o.rstd.data(), gm, N, C, HW);
        return o;
      };
      const Out ref = run(false), fast = run(true);
      if (HW == 1) {
        // Rows: the same double operations in the same order as the reference loop.
        CHECK(same_bits(fast.y, ref.y));
        CHECK(same_bits(fast.mean, ref.mean));
        CHECK(same_bits(fast.var, ref.var));
        CHECK(same_bits(fast.rstd, ref.rstd));
        CHECK(same_bits(fast.dx, ref.dx));
        CHECK(same_bits(fast.dgamma, ref.dgamma));
        CHECK(same_bits(fast.dbeta, ref.dbeta));
      } else {
        // Planes: the double sums split over 8 lanes; rounded to float, they agree to a few ulp at most.
        auto close = [](const std::vector<float>& a, const std::vector<float>& b) { return close_values(a, b, 4e-7f); };
        CHECK(close(fast.y, ref.y));
        CHECK(close(fast.mean, ref.mean));
        CHECK(close(fast.var, ref.var));
        CHECK(close(fast.rstd, ref.rstd));
        CHECK(close(fast.dx, ref.dx));
        CHECK(close(fast.dgamma, ref.dgamma));
        CHECK(close(fast.dbeta, ref.dbeta));
      }
    }
  }
}

TEST_CASE("threaded gemm matches one cblas call and repeats bit for bit", "[kernels][perf_paths]") {
  // (M, N, K) large enough to be split: by rows, and by columns when there are few rows.
  for (const auto& shape : {std::array{64, 128, 1568}, std::array{3, 2000, 300}}) {
    const int M = shape[0], N = shape[1], K = shape[2];
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        CAPTURE(M, N, K, ta, tb);
        const auto A = random_values(std::size_t(M) * K, 31), B = random_values(std::size_t(K) * N, 32);
        const int lda = ta ? M : K, ldb = tb ? K : N;
        std::vector<double> ref(std::size_t(M) * N, 0.0), mag(ref.size(), 0.0);
        for (int m = 0; m < M; ++m) {
          for (int n = 0; n < N; ++n) {
            for (int k = 0; k < K; ++k) {
              const double t = double(ta ? A[k * lda + m] : A[m * lda + k]) * (tb ? B[n * ldb + k] : B[k * ldb + n]);
              ref[m * N + n] += t;
              mag[m * N + n] += std::fabs(t);
            }
          }
        }
        auto run = [&](int threads) {
          omp_set_num_threads(threads);
          std::vector<float> C(std::size_t(M) * N, std::numeric_limits<float>::quiet_NaN());
          kernels::gemm(ta, tb, M, N, K, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), N);
          return C;
        };
        const int threads = std::max(2, omp_get_max_threads());
        const auto C1 = run(threads), C2 = run(threads), C3 = run(1);
        omp_set_num_threads(threads);
        CHECK(same_bits(C1, C2));
        const double unit = std::ldexp(1.0, -24);
        for (std::size_t i = 0; i < ref.size(); ++i) {
          const double tol = 2.0 * (K + 1) * unit * mag[i];
          if (std::fabs(C1[i] - ref[i]) > tol || std::fabs(C3[i] - ref[i]) > tol) {
            FAIL_CHECK("element " << i << ": " << C1[i] << " / " << C3[i] << " vs " << ref[i]);
            break;
          }
        }
      }
    }
  }
}

TEST_CASE("One dispatch seam: conv2d, batch norm, max pooling and gemm choose their twin the same way",
          "[kernels][dispatch]") {
  using kernels::KernelPath;
  const kernels::Conv2dDims conv = conv_dims(2, 16, 14, 14, 32, 3, 1);
  const kernels::Pool2dDims pool{.N = 2, .C = 16, .H = 28, .W = 28, .KH = 2, .KW = 2, .SH = 2, .SW = 2,
                                 .PH = 0, .PW = 0, .OH = 14, .OW = 14};
  auto paths = [&] {
    return std::array<KernelPath, 4>{kernels::conv2d_path(conv), kernels::batch_norm_path(64, 196),
                                     kernels::max_pool2d_path(pool),
                                     kernels::gemm_path(false, false, 64, 128, 1568, 1.0f, 0.0f)};
  };
  {
    // Switched off (what XGRAD_KERNELS=reference does for a whole run): every op takes its reference.
    FastPaths off(false);
    for (KernelPath p : paths()) CHECK(p == KernelPath::Reference);
    CHECK(kernels::conv2d_plan(conv).path == KernelPath::Reference);
    CHECK(kernels::conv2d_plan(conv).workspace == 0);
  }
  FastPaths on(true);
  // The reference networks' sizes take the AVX-512 twin exactly when the CPU has it.
  const KernelPath expected = kernels::cpu_has_avx512() ? KernelPath::Avx512 : KernelPath::Reference;
  for (KernelPath p : paths()) CHECK(p == expected);
  // Outside a twin's domain the reference runs whatever the switch: stride 2, a 3x3 window, alpha 2, empty.
  kernels::Conv2dDims strided = conv;
  strided.SH = strided.SW = 2;
  CHECK(kernels::conv2d_path(strided) == KernelPath::Reference);
  kernels::Pool2dDims window3 = pool;
  window3.KH = window3.KW = 3;
  CHECK(kernels::max_pool2d_path(window3) == KernelPath::Reference);
  CHECK(kernels::gemm_path(false, false, 64, 128, 1568, 2.0f, 0.0f) == KernelPath::Reference);
  CHECK(kernels::gemm_path(true, true, 64, 128, 1568, 1.0f, 0.0f) == KernelPath::Reference);
  CHECK(kernels::batch_norm_path(0, 196) == KernelPath::Reference);
}
