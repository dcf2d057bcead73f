// Metrics over a model's outputs, as functions of one batch (count_correct, confusion_matrix) and as
// streaming Metric objects that evaluate() and fit() update batch after batch (torchmetrics' update /
// compute / reset). Sums are kept in double and as counts, so the value over a loader does not depend on
// its batch size. Not losses: nothing here is differentiable.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/core/tensor.hpp"
#include "xgrad/data/dataset.hpp"

namespace xgrad {

// Number of rows of logits (N, C) whose argmax equals the label (the first maximum on ties).
std::size_t count_correct(const Tensor& logits, const Labels& labels);
// Number of rows of logits (N, C) whose label is among the k largest (a tie with the k-th counts as in).
std::size_t count_top_k(const Tensor& logits, const Labels& labels, std::size_t k);
// counts[t][p] += 1 for each row with label t predicted (argmax) as p; counts is num_classes x num_classes.
void add_confusion(std::vector<std::vector<std::size_t>>& counts, const Tensor& logits, const Labels& labels);

class Metric {
 public:
  virtual ~Metric() = default;
  virtual std::string name() const = 0;  // the key in evaluate()'s result and fit()'s logs
  virtual void reset() = 0;
  // outputs: the model's output for `batch` (logits (B, C) for the class metrics, (B, ...) like
  // batch.targets for the regression ones).
  virtual void update(const Tensor& outputs, const Batch& batch) = 0;
  virtual double compute() const = 0;  // NaN before any update
};

// Fraction of samples whose argmax logit is the label ("accuracy").
class Accuracy : public Metric {
 public:
  std::string name() const override { return "accuracy"; }
  void reset() override { correct_ = seen_ = 0; }
  void update(const Tensor& outputs, const Batch& batch) override;
  double compute() const override;

 private:
  std::size_t correct_ = 0, seen_ = 0;
};

// Fraction of samples whose label is among the k largest logits ("top_5_accuracy").
class TopKAccuracy : public Metric {
 public:
  explicit TopKAccuracy(std::size_t k);
  std::string name() const override { return "top_" + std::to_string(k_) + "_accuracy"; }
  void reset() override { correct_ = seen_ = 0; }
  void update(const Tensor& outputs, const Batch& batch) override;
  double compute() const override;

 private:
  std::size_t k_, correct_ = 0, seen_ = 0;
};

// The mean over every element of every batch of a per-element error of output against target; the
// derived metrics say which error.
class MeanElementError : public Metric {
 public:
  void reset() override { sum_ = 0, count_ = 0; }
  double compute() const override;

 protected:
  // Adds error(output - target) of every element of outputs against batch.targets (checked to match;
  // `metric` names the metric in the message).
  template <class Error>
  void add(const Tensor& outputs, const Batch& batch, const char* metric, Error error);

 private:
  double sum_ = 0;
  std::size_t count_ = 0;
};

// Mean of (output - target)^2 ("mse") or |output - target| ("mae") over every element.
class MeanSquaredError : public MeanElementError {
 public:
  std::string name() const override { return "mse"; }
  void update(const Tensor& outputs, const Batch& batch) override;
};

class MeanAbsoluteError : public MeanElementError {
 public:
  std::string name() const override { return "mae"; }
  void update(const Tensor& outputs, const Batch& batch) override;
};

// counts()[true class][predicted class]; compute() is the accuracy (the trace over the total).
class ConfusionMatrix : public Metric {
 public:
  explicit ConfusionMatrix(std::size_t num_classes);
  std::string name() const override { return "confusion_accuracy"; }
  void reset() override;
  void update(const Tensor& outputs, const Batch& batch) override;
  double compute() const override;
  const std::vector<std::vector<std::size_t>>& counts() const { return counts_; }

 private:
  std::vector<std::vector<std::size_t>> counts_;
};

}  // namespace xgrad
