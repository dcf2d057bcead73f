// Dataset and bincount: see dataset.hpp.
#include "data/dataset.hpp"

#include <algorithm>
#include <cstring>

#include "core/error.hpp"

namespace xgrad {
namespace {

void check_labels(const Labels& labels, const char* op) {
  for (std::size_t i = 0; i < labels.size(); ++i)
    XGRAD_CHECK(labels[i] >= 0, op, ": label ", labels[i], " at index ", i, " is negative");
}

}  // namespace

Dataset::Dataset(Tensor inputs, Labels labels) : inputs_(std::move(inputs)), labels_(std::move(labels)) {
  XGRAD_CHECK(inputs_.defined(), "Dataset: the inputs tensor is undefined");
  XGRAD_CHECK(inputs_.dim() >= 1, "Dataset: inputs must have a sample axis first, got shape ",
              shape_str(inputs_.shape()));
  XGRAD_CHECK(inputs_.size(0) == labels_.size(), "Dataset: inputs of shape ", shape_str(inputs_.shape()),
              " hold ", inputs_.size(0), " samples but there are ", labels_.size(), " labels");
  XGRAD_CHECK(!inputs_.requires_grad(), "Dataset: inputs must not require grad");
  check_labels(labels_, "Dataset");
}

Shape Dataset::sample_shape() const {
  XGRAD_CHECK(inputs_.defined(), "Dataset::sample_shape: the dataset is empty");
  return Shape(inputs_.shape().begin() + 1, inputs_.shape().end());
}

Dataset Dataset::subset(std::size_t begin, std::size_t end) const {
  XGRAD_CHECK(begin <= end && end <= size() && inputs_.defined(), "Dataset::subset: range [", begin, ", ",
              end, ") is not within the ", size(), " samples");
  Shape shape = inputs_.shape();
  shape[0] = end - begin;
  const std::size_t sample = numel(sample_shape());
  Tensor part = empty(shape);
  std::memcpy(part.data(), inputs_.data() + begin * sample, (end - begin) * sample * sizeof(float));
  return Dataset(part, Labels(labels_.begin() + begin, labels_.begin() + end));
}

std::vector<std::size_t> bincount(const Labels& labels, std::size_t minlength) {
  check_labels(labels, "bincount");
  std::size_t length = minlength;
  for (auto v : labels) length = std::max(length, static_cast<std::size_t>(v) + 1);
  std::vector<std::size_t> counts(length, 0);
  for (auto v : labels) ++counts[v];
  return counts;
}

}  // namespace xgrad
