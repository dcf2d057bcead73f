// MinMaxScaler and StandardScaler: scikit-learn's documented examples, round trips, constant features,
// streaming partial_fit against fit, buffers as saved state, gradients and errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "gradcheck.hpp"
#include "xgrad/layers/dense.hpp"
#include "xgrad/layers/scalers.hpp"
#include "xgrad/models/sequential.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using xgrad::gradcheck;

namespace {

std::vector<float> values(const Tensor& t) { return t.to_vector(); }

// |a - b| <= tol * max(1, |b|), elementwise.
void check_tensors_close(const Tensor& a, const Tensor& b, double tol) {
  REQUIRE(a.shape() == b.shape());
  std::size_t bad = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) {
    const double x = a.data()[i], y = b.data()[i];
    if (std::fabs(x - y) > tol * std::max(1.0, std::fabs(y))) ++bad;
  }
  CHECK(bad == 0);
}

// Rows [begin, end) of a (N, ...) tensor, as a new tensor.
Tensor rows(const Tensor& x, std::size_t begin, std::size_t end) { return slice(x, 0, begin, end).clone(); }

// Copies every buffer of `from` into `to` by name, as a checkpoint load does.
void copy_buffers(const Module& from, Module& to) {
  auto src = from.named_buffers();
  auto dst = to.named_buffers();
  REQUIRE(src.size() == dst.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    REQUIRE(src[i].first == dst[i].first);
    REQUIRE(src[i].second.shape() == dst[i].second.shape());
    std::copy_n(src[i].second.data(), src[i].second.numel(), dst[i].second.data());
  }
}

}  // namespace

TEST_CASE("MinMaxScaler reproduces scikit-learn's documented example", "[scalers]") {
  // sklearn.preprocessing.MinMaxScaler docstring.
  Tensor data{{-1.0f, 2.0f}, {-0.5f, 6.0f}, {0.0f, 10.0f}, {1.0f, 18.0f}};
  MinMaxScaler scaler;
  scaler.fit(data);
  CHECK(values(scaler.data_min()) == std::vector<float>{-1, 2});
  CHECK(values(scaler.data_max()) == std::vector<float>{1, 18});
  CHECK(values(scaler.data_range()) == std::vector<float>{2, 16});
  CHECK(values(scaler.scale()) == std::vector<float>{0.5f, 0.0625f});
  CHECK(values(scaler.min()) == std::vector<float>{0.5f, -0.125f});
  CHECK(values(scaler.transform(data)) == std::vector<float>{0, 0, 0.25f, 0.25f, 0.5f, 0.5f, 1, 1});
  CHECK(values(scaler.transform(Tensor{{2.0f, 2.0f}})) == std::vector<float>{1.5f, 0});
  CHECK(scaler.n_samples_seen() == 4);

  // feature_range (-1, 1): scale = 2 / range, min = -1 - data_min * scale; clip bounds the output.
  MinMaxScaler wide(MinMaxScalerOptions{.feature_range = {-1.0f, 1.0f}, .clip = true});
  wide.fit(data);
  CHECK(values(wide.transform(data)) == std::vector<float>{-1, -1, -0.5f, -0.5f, 0, 0, 1, 1});
  CHECK(values(wide.transform(Tensor{{2.0f, 0.0f}})) == std::vector<float>{1, -1});  // 3 and -1.25, clipped
  CHECK(wide.describe() == "MinMaxScaler(feature_range=(-1, 1), clip=true)");
}

TEST_CASE("StandardScaler reproduces scikit-learn's documented example", "[scalers]") {
  // sklearn.preprocessing.StandardScaler docstring.
  Tensor data{{0.0f, 0.0f}, {0.0f, 0.0f}, {1.0f, 1.0f}, {1.0f, 1.0f}};
  StandardScaler scaler;
  scaler.fit(data);
  CHECK(values(scaler.mean()) == std::vector<float>{0.5f, 0.5f});
  CHECK(values(scaler.var()) == std::vector<float>{0.25f, 0.25f});
  CHECK(values(scaler.scale()) == std::vector<float>{0.5f, 0.5f});
  CHECK(values(scaler.transform(data)) == std::vector<float>{-1, -1, -1, -1, 1, 1, 1, 1});
  CHECK(values(scaler.transform(Tensor{{2.0f, 2.0f}})) == std::vector<float>{3, 3});
  CHECK(scaler.describe() == "StandardScaler(with_mean=true, with_std=true)");

  // Hand-computed: column (1, 2, 3, 6): mean 3, population variance (4 + 1 + 0 + 9) / 4 = 3.5.
  StandardScaler s2;
  s2.fit(from_vector({1, 2, 3, 6}, {4, 1}));
  CHECK(s2.mean().item() == 3.0f);
  CHECK(s2.var().item() == 3.5f);
  CHECK(s2.scale().item() == static_cast<float>(std::sqrt(3.5)));
  CHECK(s2.transform(from_vector({6.0f}, {1, 1})).item() == Approx(3.0 / std::sqrt(3.5)));

  // with_mean / with_std switch each step off.
  StandardScaler no_mean(StandardScalerOptions{.with_mean = false});
  no_mean.fit(data);
  CHECK(values(no_mean.transform(Tensor{{1.0f, 2.0f}})) == std::vector<float>{2, 4});
  StandardScaler no_std(StandardScalerOptions{.with_std = false});
  no_std.fit(data);
  CHECK(values(no_std.transform(Tensor{{1.0f, 2.0f}})) == std::vector<float>{0.5f, 1.5f});
  CHECK(values(no_std.inverse_transform(Tensor{{0.5f, 1.5f}})) == std::vector<float>{1, 2});
}

TEST_CASE("inverse_transform undoes transform, for (N, F) and (N, C, H, W) features", "[scalers]") {
  Generator gen(1);
  for (const Shape& shape : {Shape{64, 5}, Shape{16, 3, 4, 4}}) {
    Tensor x = add(mul(randn(shape, gen), 7.0f), 3.0f);
    MinMaxScaler mm;
    StandardScaler ss;
    mm.fit(x);
    ss.fit(x);
    Shape features(shape.begin() + 1, shape.end());
    CHECK(mm.feature_shape() == features);
    CHECK(ss.mean().shape() == features);
    // Each way is two float32 roundings of values up to ~30: under 1e-6 relative.
    check_tensors_close(mm.inverse_transform(mm.transform(x)), x, 1e-6);
    check_tensors_close(ss.inverse_transform(ss.transform(x)), x, 1e-6);
  }
}

TEST_CASE("constant features get scale 1 instead of a division by zero", "[scalers]") {
  Tensor x{{3.0f, 1.0f}, {3.0f, 5.0f}, {3.0f, 2.0f}};  // column 0 is constant
  MinMaxScaler mm;
  mm.fit(x);
  CHECK(mm.data_range().at({0}) == 0.0f);
  CHECK(mm.scale().at({0}) == 1.0f);
  Tensor y = mm.transform(x);
  CHECK(y.at({0, 0}) == 0.0f);  // maps to the bottom of feature_range
  CHECK(y.at({1, 1}) == 1.0f);
  CHECK(values(mm.inverse_transform(y)) == values(x));

  StandardScaler ss;
  ss.fit(x);
  CHECK(ss.mean().at({0}) == 3.0f);
  CHECK(ss.var().at({0}) == 0.0f);
  CHECK(ss.scale().at({0}) == 1.0f);
  Tensor z = ss.transform(x);
  CHECK(z.at({0, 0}) == 0.0f);
  CHECK(z.at({2, 0}) == 0.0f);
  CHECK(values(ss.inverse_transform(z)) == values(x));
  // A large constant: its float mean is exact and its variance 0, so still scale 1 (no 1e-8 noise).
  StandardScaler big;
  big.fit(full({7, 1}, 123456.7f));
  CHECK(big.scale().item() == 1.0f);
}

TEST_CASE("partial_fit over chunks equals fit over all the data", "[scalers]") {
  Generator gen(2);
  // A large mean next to a small spread is where a naive sum-of-squares variance breaks down.
  Tensor x = add(mul(randn({1000, 4}, gen), 0.01f), 1000.0f);
  StandardScaler whole, streamed;
  whole.fit(x);
  streamed.partial_fit(rows(x, 0, 7)).partial_fit(rows(x, 7, 307)).partial_fit(rows(x, 307, 1000));
  CHECK(streamed.n_samples_seen() == 1000);
  // The merge is exact in real arithmetic; in double it differs from the one-batch result by ~1e-16
  // relative, which rounds to the same float or the neighbouring one.
  check_tensors_close(streamed.mean(), whole.mean(), 1e-7);
  check_tensors_close(streamed.var(), whole.var(), 1e-6);
  check_tensors_close(streamed.scale(), whole.scale(), 1e-6);

  // Against an independent two-pass computation in double.
  for (std::size_t f = 0; f < 4; ++f) {
    double sum = 0, sq = 0;
    for (std::size_t n = 0; n < 1000; ++n) sum += x.at({n, f});
    const double mean = sum / 1000.0;
    for (std::size_t n = 0; n < 1000; ++n) sq += (x.at({n, f}) - mean) * (x.at({n, f}) - mean);
    CHECK(whole.mean().at({f}) == static_cast<float>(mean));
    CHECK(whole.var().at({f}) == Approx(sq / 1000.0).epsilon(1e-6));
    CHECK(streamed.var().at({f}) == Approx(sq / 1000.0).epsilon(1e-6));
  }

  MinMaxScaler mm_whole, mm_streamed;
  mm_whole.fit(x);
  mm_streamed.partial_fit(rows(x, 0, 500)).partial_fit(rows(x, 500, 1000));
  for (auto [a, b] : {std::pair{mm_whole.data_min(), mm_streamed.data_min()},
                      std::pair{mm_whole.scale(), mm_streamed.scale()}, std::pair{mm_whole.min(), mm_streamed.min()}}) {
    CHECK(values(a) == values(b));  // min and max are exact
  }
  // fit() forgets what partial_fit saw.
  mm_streamed.fit(rows(x, 0, 10));
  CHECK(mm_streamed.n_samples_seen() == 10);
}

TEST_CASE("scalers keep their statistics in buffers: load, then transform and continue fitting", "[scalers]") {
  Generator gen(3);
  Tensor x = add(mul(randn({200, 3}, gen), 2.0f), -1.0f);
  StandardScaler fitted;
  fitted.partial_fit(rows(x, 0, 100));
  std::vector<std::string> names;
  for (const auto& [name, t] : fitted.named_buffers()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"mean", "var", "scale", "n_samples_seen"});
  CHECK(fitted.parameter_count() == 0);

  // A scaler built for 3 features has buffers of the right shape to load into.
  StandardScaler loaded(StandardScalerOptions{}, {3});
  CHECK(!loaded.fitted());
  copy_buffers(fitted, loaded);
  CHECK(loaded.fitted());
  CHECK(values(loaded.transform(x)) == values(fitted.transform(x)));
  // partial_fit after a load starts from the loaded (float) statistics.
  loaded.partial_fit(rows(x, 100, 200));
  StandardScaler all;
  all.fit(x);
  check_tensors_close(loaded.mean(), all.mean(), 1e-6);
  check_tensors_close(loaded.var(), all.var(), 1e-5);

  MinMaxScaler mm;
  mm.fit(x);
  MinMaxScaler mm_loaded(MinMaxScalerOptions{}, {3});
  copy_buffers(mm, mm_loaded);
  CHECK(values(mm_loaded.transform(x)) == values(mm.transform(x)));
}

TEST_CASE("a fitted scaler at the front of a Sequential transforms the input", "[scalers]") {
  Generator gen(4);
  Tensor x = add(mul(randn({32, 3}, gen), 5.0f), 10.0f);
  auto scaler = std::make_shared<StandardScaler>();
  scaler->fit(x);
  auto dense = std::make_shared<Dense>(3, 2, gen);
  Sequential model{scaler, dense};
  CHECK(values(model(x)) == values((*dense)(scaler->transform(x))));
  CHECK(model.named_buffers()[0].first == "0.mean");
}

TEST_CASE("scaler transforms are differentiable in the input", "[scalers][gradcheck]") {
  Generator gen(5);
  Tensor data = randn({20, 3}, gen);
  MinMaxScaler mm(MinMaxScalerOptions{.feature_range = {-2.0f, 3.0f}});
  StandardScaler ss;
  mm.fit(data);
  ss.fit(data);
  Tensor x = randn({4, 3}, gen).set_requires_grad();
  // Affine per feature: central differences exact up to float32 rounding of the forward.
  for (FeatureScaler* s : std::vector<FeatureScaler*>{&mm, &ss}) {
    auto r = gradcheck([&](const std::vector<Tensor>& in) { return s->transform(in[0]); }, {x});
    INFO(s->describe() << ": " << r.message);
    CHECK(r.ok);
    r = gradcheck([&](const std::vector<Tensor>& in) { return s->inverse_transform(in[0]); }, {x});
    CHECK(r.ok);
  }
}

TEST_CASE("scaler errors name the scaler, the method and the shapes", "[scalers][errors]") {
  Tensor x = zeros({5, 2});
  MinMaxScaler mm;
  StandardScaler ss;
  CHECK_THROWS_WITH(ss.transform(x), Catch::Contains("StandardScaler.transform") && Catch::Contains("not fitted"));
  CHECK_THROWS_WITH(ss.inverse_transform(x), Catch::Contains("StandardScaler.inverse_transform") &&
                                                 Catch::Contains("not fitted"));
  CHECK_THROWS_WITH(ss(x), Catch::Contains("StandardScaler.transform") && Catch::Contains("not fitted"));
  CHECK_THROWS_WITH(mm.transform(x), Catch::Contains("MinMaxScaler.transform") && Catch::Contains("not fitted"));
  CHECK_THROWS_WITH(mm.inverse_transform(x), Catch::Contains("MinMaxScaler.inverse_transform"));

  ss.fit(x);
  mm.fit(x);
  CHECK_THROWS_WITH(ss.transform(zeros({3, 4})), Catch::Contains("StandardScaler.transform") &&
                                                     Catch::Contains("expected input (N, 2)") &&
                                                     Catch::Contains("got (3, 4)"));
  CHECK_THROWS_WITH(mm.inverse_transform(zeros({3, 2, 1})), Catch::Contains("MinMaxScaler.inverse_transform") &&
                                                                Catch::Contains("(N, 2)") &&
                                                                Catch::Contains("(3, 2, 1)"));
  CHECK_THROWS_WITH(ss.partial_fit(zeros({3, 3})), Catch::Contains("StandardScaler.partial_fit") &&
                                                       Catch::Contains("(N, 2)") && Catch::Contains("(3, 3)"));
  ss.fit(zeros({3, 3}));  // fit starts over, with any features
  CHECK(ss.feature_shape() == Shape{3});
  CHECK_THROWS_WITH(mm.fit(zeros({5})), Catch::Contains("MinMaxScaler.fit") && Catch::Contains("(N, features...)") &&
                                            Catch::Contains("(5)"));
  CHECK_THROWS_WITH(mm.fit(zeros({0, 2})), Catch::Contains("MinMaxScaler.fit") && Catch::Contains("(0, 2)"));
  Tensor bad = zeros({3, 2});
  bad.set({1, 0}, NAN);
  CHECK_THROWS_WITH(ss.fit(bad), Catch::Contains("StandardScaler.fit") && Catch::Contains("nan") &&
                                     Catch::Contains("sample 1"));
  CHECK_THROWS_WITH(MinMaxScaler(MinMaxScalerOptions{.feature_range = {1.0f, 0.0f}}),
                    Catch::Contains("MinMaxScaler") && Catch::Contains("(1, 0)"));
}
