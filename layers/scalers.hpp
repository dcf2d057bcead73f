// Feature scalers fitted on data, like scikit-learn's MinMaxScaler and StandardScaler: fit / partial_fit
// learn per-feature statistics (features = every axis but axis 0), transform / inverse_transform apply
// them. They are Modules whose statistics are registered buffers (saved and loaded with the model) and
// whose forward is transform, so a fitted scaler can sit at the front of a Sequential (like Keras'
// Normalization.adapt). Not per-sample normalization: see sample_norm.hpp.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "xgrad/layers/module.hpp"

namespace xgrad {

// What the two scalers share: the fitted feature shape, n_samples_seen and the checks on inputs.
// Buffers are allocated by the first fit (shape (0) before), or at construction when `feature_shape` is
// given, so that a checkpoint can be loaded into an unfitted scaler. n_samples_seen has shape () and is
// a float count: exact up to 2^24 samples.
class FeatureScaler : public Module {
 public:
  Tensor forward(const Tensor& x) override { return transform(x); }
  virtual Tensor transform(const Tensor& x) const = 0;
  virtual Tensor inverse_transform(const Tensor& x) const = 0;

  bool fitted() const { return n_samples_seen_.item() > 0.0f; }
  double n_samples_seen() const { return n_samples_seen_.item(); }
  // The shape of one sample, e.g. (F) or (C, H, W); empty before the first fit.
  const Shape& feature_shape() const { return feature_shape_; }

 protected:
  FeatureScaler(const char* name, const Shape& feature_shape);
  // Checks x is (N >= 1, features...) with finite values; for partial_fit, also that its features
  // match those already seen. Returns N.
  std::size_t check_fit_input(const Tensor& x, const char* method, bool partial) const;
  // Checks that the scaler is fitted and x is (N, feature_shape...).
  void check_transform_input(const Tensor& x, const char* method) const;
  // Gives the buffer `name` (held in `member`) the shape `shape`, reallocating only if it differs.
  void resize_buffer(Tensor& member, const std::string& name, const Shape& shape);
  void set_feature_shape(const Shape& shape) { feature_shape_ = shape; }

  const char* name_;
  Shape feature_shape_;
  Tensor n_samples_seen_;
};

struct MinMaxScalerOptions {
  std::pair<float, float> feature_range = {0.0f, 1.0f};  // (min, max), min < max
  bool clip = false;  // clip transformed values to feature_range (for data outside the fitted range)
};

// transform: x * scale + min, with scale = (max - min) / data_range and min = range_min - data_min * scale
// (sklearn's scale_ and min_), computed in double and rounded once. A constant feature (data_range below
// 10 float eps, sklearn's rule for float32 data) is scaled as if its range were 1, so it maps to
// range_min. inverse_transform: (x - min) / scale.
// Buffers: data_min, data_max, data_range, scale, min (feature shape), n_samples_seen ().
class MinMaxScaler : public FeatureScaler {
 public:
  explicit MinMaxScaler(const MinMaxScalerOptions& options = {}, const Shape& feature_shape = {});

  MinMaxScaler& fit(const Tensor& x);          // forgets earlier data
  MinMaxScaler& partial_fit(const Tensor& x);  // running min and max over every batch seen
  Tensor transform(const Tensor& x) const override;
  Tensor inverse_transform(const Tensor& x) const override;
  std::string describe() const override;  // "MinMaxScaler(feature_range=(0, 1), clip=false)"
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<MinMaxScaler>(options_, feature_shape_)); }

  const MinMaxScalerOptions& options() const { return options_; }
  Tensor data_min() const { return data_min_; }
  Tensor data_max() const { return data_max_; }
  Tensor data_range() const { return data_range_; }
  Tensor scale() const { return scale_; }
  Tensor min() const { return min_; }

 private:
  void allocate(const Shape& shape);
  MinMaxScalerOptions options_;
  Tensor data_min_, data_max_, data_range_, scale_, min_;
};

struct StandardScalerOptions {
  bool with_mean = true;  // subtract the mean
  bool with_std = true;   // divide by the standard deviation
};

// transform: (x - mean) / scale, with mean and population variance var per feature, scale = sqrt(var),
// and scale 1 for a constant feature (sklearn's rules, eps of double: var <= n eps var + (n eps mean)^2,
// or scale < 10 eps). Statistics are accumulated in double as (count, mean, M2) and merged across
// partial_fit calls by Chan et al.'s formula, so partial_fit over chunks equals fit over all of them up to
// rounding of the merge.
// Buffers: mean, var, scale (feature shape), n_samples_seen (). The double accumulators are rebuilt
// from the buffers if those changed (e.g. a checkpoint was loaded).
class StandardScaler : public FeatureScaler {
 public:
  explicit StandardScaler(const StandardScalerOptions& options = {}, const Shape& feature_shape = {});

  StandardScaler& fit(const Tensor& x);
  StandardScaler& partial_fit(const Tensor& x);
  Tensor transform(const Tensor& x) const override;
  Tensor inverse_transform(const Tensor& x) const override;
  std::string describe() const override;  // "StandardScaler(with_mean=true, with_std=true)"
  // The copy keeps the double accumulators too, so its partial_fit continues exactly as this one's.
  std::shared_ptr<Module> clone() const override;

  const StandardScalerOptions& options() const { return options_; }
  Tensor mean() const { return mean_; }
  Tensor var() const { return var_; }
  Tensor scale() const { return scale_; }

 private:
  void allocate(const Shape& shape);
  bool accumulators_match_buffers() const;
  StandardScalerOptions options_;
  Tensor mean_, var_, scale_;
  std::vector<double> acc_mean_, acc_m2_;  // per feature
  double acc_count_ = 0;
};

}  // namespace xgrad
