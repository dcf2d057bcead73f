// MinMaxScaler and StandardScaler: see scalers.hpp. Fitting loops run on raw data in double (over
// samples, then features, so memory is read in order); transforms compose elementwise ops, so they
// broadcast (N, features...) against the (features...) buffers and are differentiable.
#include "xgrad/layers/scalers.hpp"

#include <cfloat>
#include <cmath>
#include <limits>
#include <sstream>

#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/elementwise.hpp"

namespace xgrad {
namespace {

Shape features_of(const Shape& shape) { return Shape(shape.begin() + 1, shape.end()); }

// "(N, 3)" or "(N, 2, 2)": the input shape a scaler fitted on `features` accepts.
std::string batch_shape_str(const Shape& features) {
  std::string s = shape_str(features);
  return features.empty() ? "(N)" : "(N, " + s.substr(1);
}

}  // namespace

// ---- FeatureScaler ----

FeatureScaler::FeatureScaler(const char* name, const Shape& feature_shape)
    : name_(name), feature_shape_(feature_shape) {}

std::size_t FeatureScaler::check_fit_input(const Tensor& x, const char* method, bool partial) const {
  XGRAD_CHECK(x.defined(), name_, ".", method, ": the input is undefined");
  XGRAD_CHECK(x.dim() >= 2 && x.size(0) >= 1 && x.numel() > 0, name_, ".", method,
              ": expected input (N, features...) with N >= 1 and at least one feature, got ", shape_str(x.shape()));
  XGRAD_CHECK(!(partial && fitted()) || features_of(x.shape()) == feature_shape_, name_, ".", method,
              ": expected input ", batch_shape_str(feature_shape_), " for the features seen before, got ",
              shape_str(x.shape()));
  const float* v = x.data();
  const std::size_t F = x.numel() / x.size(0);
  for (std::size_t i = 0, n = x.numel(); i < n; ++i) {
    XGRAD_CHECK(std::isfinite(v[i]), name_, ".", method, ": the data holds the non-finite value ", v[i],
                " in sample ", i / F, " of input ", shape_str(x.shape()));
  }
  return x.size(0);
}

void FeatureScaler::check_transform_input(const Tensor& x, const char* method) const {
  XGRAD_CHECK(fitted(), name_, ".", method, ": not fitted yet; call fit() or partial_fit() first");
  XGRAD_CHECK(x.defined(), name_, ".", method, ": the input is undefined");
  XGRAD_CHECK(x.dim() >= 1 && features_of(x.shape()) == feature_shape_, name_, ".", method, ": expected input ",
              batch_shape_str(feature_shape_), " as fitted, got ", shape_str(x.shape()));
}

void FeatureScaler::resize_buffer(Tensor& member, const std::string& name, const Shape& shape) {
  if (member.defined() && member.shape() == shape) return;
  member = zeros(shape);
  replace_tensor(name, member);
}

// ---- MinMaxScaler ----

MinMaxScaler::MinMaxScaler(const MinMaxScalerOptions& options, const Shape& feature_shape)
    : FeatureScaler("MinMaxScaler", feature_shape), options_(options) {
  const auto [lo, hi] = options.feature_range;
  XGRAD_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo < hi,
              "MinMaxScaler: the minimum of feature_range must be below its maximum, got (", lo, ", ", hi, ")");
  const Shape shape = feature_shape.empty() ? Shape{0} : feature_shape;
  data_min_ = register_buffer("data_min", zeros(shape));
  data_max_ = register_buffer("data_max", zeros(shape));
  data_range_ = register_buffer("data_range", zeros(shape));
  scale_ = register_buffer("scale", zeros(shape));
  min_ = register_buffer("min", zeros(shape));
  n_samples_seen_ = register_buffer("n_samples_seen", zeros({}));
}

void MinMaxScaler::allocate(const Shape& shape) {
  set_feature_shape(shape);
  resize_buffer(data_min_, "data_min", shape);
  resize_buffer(data_max_, "data_max", shape);
  resize_buffer(data_range_, "data_range", shape);
  resize_buffer(scale_, "scale", shape);
  resize_buffer(min_, "min", shape);
}

MinMaxScaler& MinMaxScaler::fit(const Tensor& x) {
  check_fit_input(x, "fit", false);
  n_samples_seen_.data()[0] = 0.0f;
  return partial_fit(x);
}

MinMaxScaler& MinMaxScaler::partial_fit(const Tensor& x) {
  const std::size_t N = check_fit_input(x, "partial_fit", true);
  const std::size_t F = x.numel() / N;
  float *dmin = nullptr, *dmax = nullptr;
  if (!fitted()) {
    allocate(features_of(x.shape()));
    std::fill_n(data_min_.data(), F, std::numeric_limits<float>::infinity());
    std::fill_n(data_max_.data(), F, -std::numeric_limits<float>::infinity());
  }
  dmin = data_min_.data();
  dmax = data_max_.data();
  const float* v = x.data();
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t f = 0; f < F; ++f) {
      dmin[f] = std::min(dmin[f], v[n * F + f]);
      dmax[f] = std::max(dmax[f], v[n * F + f]);
    }
  }
  n_samples_seen_.data()[0] += static_cast<float>(N);

  // scale = (hi - lo) / range, min = lo - data_min * scale; a range under 10 float eps counts as 1.
  const double lo = options_.feature_range.first, hi = options_.feature_range.second;
  float *range = data_range_.data(), *scale = scale_.data(), *mn = min_.data();
  for (std::size_t f = 0; f < F; ++f) {
    const double r = double(dmax[f]) - double(dmin[f]);
    range[f] = static_cast<float>(r);
    const double s = (hi - lo) / (r < 10.0 * FLT_EPSILON ? 1.0 : r);
    scale[f] = static_cast<float>(s);
    mn[f] = static_cast<float>(lo - double(dmin[f]) * s);
  }
  return *this;
}

Tensor MinMaxScaler::transform(const Tensor& x) const {
  check_transform_input(x, "transform");
  Tensor y = x * scale_ + min_;
  return options_.clip ? clamp(y, options_.feature_range.first, options_.feature_range.second) : y;
}

Tensor MinMaxScaler::inverse_transform(const Tensor& x) const {
  check_transform_input(x, "inverse_transform");
  return (x - min_) / scale_;
}

std::string MinMaxScaler::describe() const {
  std::ostringstream out;
  out << "MinMaxScaler(feature_range=(" << options_.feature_range.first << ", " << options_.feature_range.second
      << "), clip=" << (options_.clip ? "true" : "false") << ")";
  return out.str();
}

// ---- StandardScaler ----

StandardScaler::StandardScaler(const StandardScalerOptions& options, const Shape& feature_shape)
    : FeatureScaler("StandardScaler", feature_shape), options_(options) {
  const Shape shape = feature_shape.empty() ? Shape{0} : feature_shape;
  mean_ = register_buffer("mean", zeros(shape));
  var_ = register_buffer("var", zeros(shape));
  scale_ = register_buffer("scale", ones(shape));
  n_samples_seen_ = register_buffer("n_samples_seen", zeros({}));
}

void StandardScaler::allocate(const Shape& shape) {
  set_feature_shape(shape);
  resize_buffer(mean_, "mean", shape);
  resize_buffer(var_, "var", shape);
  resize_buffer(scale_, "scale", shape);
  acc_mean_.assign(numel(shape), 0.0);
  acc_m2_.assign(numel(shape), 0.0);
  acc_count_ = 0;
}

bool StandardScaler::accumulators_match_buffers() const {
  if (acc_count_ != double(n_samples_seen_.item()) || acc_mean_.size() != mean_.numel()) return false;
  for (std::size_t f = 0; f < acc_mean_.size(); ++f) {
    if (static_cast<float>(acc_mean_[f]) != mean_.data()[f] ||
        static_cast<float>(acc_m2_[f] / acc_count_) != var_.data()[f]) {
      return false;
    }
  }
  return true;
}

StandardScaler& StandardScaler::fit(const Tensor& x) {
  check_fit_input(x, "fit", false);
  n_samples_seen_.data()[0] = 0.0f;
  return partial_fit(x);
}

StandardScaler& StandardScaler::partial_fit(const Tensor& x) {
  const std::size_t N = check_fit_input(x, "partial_fit", true);
  const std::size_t F = x.numel() / N;
  if (!fitted()) {
    allocate(features_of(x.shape()));
  } else if (!accumulators_match_buffers()) {  // the buffers were loaded or edited: start from them
    acc_count_ = n_samples_seen_.item();
    acc_mean_.assign(mean_.data(), mean_.data() + F);
    acc_m2_.resize(F);
    for (std::size_t f = 0; f < F; ++f) acc_m2_[f] = double(var_.data()[f]) * acc_count_;
  }
  // This batch's mean and M2 = sum (x - mean)^2, two passes in double.
  const float* v = x.data();
  std::vector<double> b_mean(F, 0.0), b_m2(F, 0.0);
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t f = 0; f < F; ++f) b_mean[f] += v[n * F + f];
  }
  for (std::size_t f = 0; f < F; ++f) b_mean[f] /= double(N);
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t f = 0; f < F; ++f) {
      const double d = v[n * F + f] - b_mean[f];
      b_m2[f] += d * d;
    }
  }
  // Chan et al.: with delta = mean_b - mean_a and n = n_a + n_b,
  // mean = mean_a + delta n_b / n,  M2 = M2_a + M2_b + delta^2 n_a n_b / n.
  const double na = acc_count_, nb = double(N), total = na + nb;
  const double eps = std::numeric_limits<double>::epsilon();
  float *mean = mean_.data(), *var = var_.data(), *scale = scale_.data();
  for (std::size_t f = 0; f < F; ++f) {
    const double delta = b_mean[f] - acc_mean_[f];
    acc_mean_[f] += delta * nb / total;
    acc_m2_[f] += b_m2[f] + delta * delta * na * nb / total;
    const double m = acc_mean_[f], s2 = acc_m2_[f] / total;
    // sklearn's _is_constant_feature (rounding alone can explain a variance this small) and
    // _handle_zeros_in_scale (a standard deviation under 10 eps).
    const bool constant =
        s2 <= total * eps * s2 + (total * m * eps) * (total * m * eps) || std::sqrt(s2) < 10.0 * eps;
    mean[f] = static_cast<float>(m);
    var[f] = static_cast<float>(s2);
    scale[f] = constant ? 1.0f : static_cast<float>(std::sqrt(s2));
  }
  acc_count_ = total;
  n_samples_seen_.data()[0] = static_cast<float>(total);
  return *this;
}

Tensor StandardScaler::transform(const Tensor& x) const {
  check_transform_input(x, "transform");
  Tensor y = options_.with_mean ? x - mean_ : x;
  return options_.with_std ? y / scale_ : y;
}

Tensor StandardScaler::inverse_transform(const Tensor& x) const {
  check_transform_input(x, "inverse_transform");
  Tensor y = options_.with_std ? x * scale_ : x;
  return options_.with_mean ? y + mean_ : y;
}

std::shared_ptr<Module> StandardScaler::clone() const {
  auto copy = clone_into(std::make_shared<StandardScaler>(options_, feature_shape_));
  copy->acc_mean_ = acc_mean_;
  copy->acc_m2_ = acc_m2_;
  copy->acc_count_ = acc_count_;
  return copy;
}

std::string StandardScaler::describe() const {
  std::ostringstream out;
  out << "StandardScaler(with_mean=" << (options_.with_mean ? "true" : "false")
      << ", with_std=" << (options_.with_std ? "true" : "false") << ")";
  return out.str();
}

}  // namespace xgrad
