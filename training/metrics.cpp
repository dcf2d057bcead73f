// Metrics: see metrics.hpp.
#include "xgrad/training/metrics.hpp"

#include <cmath>
#include <limits>

#include "xgrad/core/error.hpp"

namespace xgrad {
namespace {

// What a metric that has seen nothing computes.
constexpr double kNoSamples = std::numeric_limits<double>::quiet_NaN();

// logits (N, C) with N labels in [0, C): the shapes every class metric needs.
void check_logits(const Tensor& logits, const Labels& labels, const char* op) {
  XGRAD_CHECK(logits.defined() && logits.dim() == 2, op, ": expected logits of shape (N, C), got ",
              logits.defined() ? shape_str(logits.shape()) : std::string("an undefined tensor"));
  XGRAD_CHECK(logits.size(0) == labels.size(), op, ": logits of shape ", shape_str(logits.shape()), " for ",
              labels.size(), " labels", labels.empty() ? " (the batch has float targets, not labels?)" : "");
  for (std::size_t n = 0; n < labels.size(); ++n)
    XGRAD_CHECK(labels[n] >= 0 && std::size_t(labels[n]) < logits.size(1), op, ": label ", labels[n], " at row ",
                n, " is not a class of logits of shape ", shape_str(logits.shape()));
}

std::size_t argmax_row(const float* z, std::size_t C) {
  std::size_t best = 0;
  for (std::size_t c = 1; c < C; ++c) {
    if (z[c] > z[best]) best = c;
  }
  return best;
}

// outputs and batch.targets of one shape: the regression metrics' check.
const Tensor& checked_targets(const Tensor& outputs, const Batch& batch, const char* op) {
  XGRAD_CHECK(batch.targets.defined(), op, ": the batch has no float targets (class labels: use Accuracy)");
  XGRAD_CHECK(outputs.defined() && outputs.shape() == batch.targets.shape(), op, ": outputs of shape ",
              outputs.defined() ? shape_str(outputs.shape()) : std::string("undefined"), " for targets of shape ",
              shape_str(batch.targets.shape()));
  return batch.targets;
}

}  // namespace

std::size_t count_correct(const Tensor& logits, const Labels& labels) {
  check_logits(logits, labels, "count_correct");
  const std::size_t N = logits.size(0), C = logits.size(1);
  std::size_t correct = 0;
  for (std::size_t n = 0; n < N; ++n)
    correct += static_cast<std::int32_t>(argmax_row(logits.data() + n * C, C)) == labels[n];
  return correct;
}

std::size_t count_top_k(const Tensor& logits, const Labels& labels, std::size_t k) {
  check_logits(logits, labels, "count_top_k");
  const std::size_t N = logits.size(0), C = logits.size(1);
  std::size_t correct = 0;
  for (std::size_t n = 0; n < N; ++n) {
    // In the top k when fewer than k logits are strictly larger than the label's.
    const float* z = logits.data() + n * C;
    std::size_t larger = 0;
    for (std::size_t c = 0; c < C; ++c) larger += z[c] > z[labels[n]];
    correct += larger < k;
  }
  return correct;
}

void add_confusion(std::vector<std::vector<std::size_t>>& counts, const Tensor& logits, const Labels& labels) {
  check_logits(logits, labels, "confusion_matrix");
  const std::size_t N = logits.size(0), C = logits.size(1);
  XGRAD_CHECK(counts.size() == C, "confusion_matrix: ", counts.size(), " classes, but logits of shape ",
              shape_str(logits.shape()));
  for (std::size_t n = 0; n < N; ++n) ++counts[labels[n]][argmax_row(logits.data() + n * C, C)];
}

void Accuracy::update(const Tensor& outputs, const Batch& batch) {
  correct_ += count_correct(outputs, batch.labels);
  seen_ += batch.labels.size();
}
double Accuracy::compute() const { return seen_ ? double(correct_) / double(seen_) : kNoSamples; }

TopKAccuracy::TopKAccuracy(std::size_t k) : k_(k) { XGRAD_CHECK(k >= 1, "TopKAccuracy: k must be >= 1, got 0"); }
void TopKAccuracy::update(const Tensor& outputs, const Batch& batch) {
  correct_ += count_top_k(outputs, batch.labels, k_);
  seen_ += batch.labels.size();
}
double TopKAccuracy::compute() const { return seen_ ? double(correct_) / double(seen_) : kNoSamples; }

template <class Error>
void MeanElementError::add(const Tensor& outputs, const Batch& batch, const char* metric, Error error) {
  const Tensor& t = checked_targets(outputs, batch, metric);
  for (std::size_t i = 0; i < t.numel(); ++i) sum_ += error(double(outputs.data()[i]) - double(t.data()[i]));
  count_ += t.numel();
}
double MeanElementError::compute() const { return count_ ? sum_ / double(count_) : kNoSamples; }

void MeanSquaredError::update(const Tensor& outputs, const Batch& batch) {
  add(outputs, batch, "MeanSquaredError", [](double d) { return d * d; });
}

void MeanAbsoluteError::update(const Tensor& outputs, const Batch& batch) {
  add(outputs, batch, "MeanAbsoluteError", [](double d) { return std::fabs(d); });
}

ConfusionMatrix::ConfusionMatrix(std::size_t num_classes) : counts_(num_classes, std::vector<std::size_t>(num_classes)) {
  XGRAD_CHECK(num_classes >= 1, "ConfusionMatrix: num_classes must be >= 1, got 0");
}
void ConfusionMatrix::reset() {
  for (auto& row : counts_) std::fill(row.begin(), row.end(), 0);
}
void ConfusionMatrix::update(const Tensor& outputs, const Batch& batch) { add_confusion(counts_, outputs, batch.labels); }
double ConfusionMatrix::compute() const {
  std::size_t diagonal = 0, total = 0;
  for (std::size_t t = 0; t < counts_.size(); ++t) {
    for (std::size_t p = 0; p < counts_.size(); ++p) total += counts_[t][p];
    diagonal += counts_[t][t];
  }
  return total ? double(diagonal) / double(total) : kNoSamples;
}

}  // namespace xgrad
