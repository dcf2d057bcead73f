// Dataset and bincount: see dataset.hpp.
#include "xgrad/data/dataset.hpp"

#include <algorithm>
#include <cstring>

#include "xgrad/core/error.hpp"
#include "xgrad/data/binary_file.hpp"

namespace xgrad {
namespace {

void check_labels(const Labels& labels, const char* op) {
  for (std::size_t i = 0; i < labels.size(); ++i)
    XGRAD_CHECK(labels[i] >= 0, op, ": label ", labels[i], " at index ", i, " is negative");
}

void check_sample_count(const Shape& shape, const Labels& labels) {
  XGRAD_CHECK(shape.size() >= 1, "Dataset: inputs must have a sample axis first, got shape ", shape_str(shape));
  XGRAD_CHECK(shape[0] == labels.size(), "Dataset: inputs of shape ", shape_str(shape), " hold ", shape[0],
              " samples but there are ", labels.size(), " labels");
  check_labels(labels, "Dataset");
}

}  // namespace

Dataset::Dataset(Tensor inputs, Labels labels) : floats_(std::move(inputs)), labels_(std::move(labels)) {
  XGRAD_CHECK(floats_.defined(), "Dataset: the inputs tensor is undefined");
  XGRAD_CHECK(!floats_.requires_grad(), "Dataset: inputs must not require grad");
  shape_ = floats_.shape();
  check_sample_count(shape_, labels_);
}

Dataset::Dataset(Shape shape, std::vector<std::uint8_t> bytes, Labels labels)
    : shape_(std::move(shape)), labels_(std::move(labels)) {
  check_sample_count(shape_, labels_);
  XGRAD_CHECK(bytes.size() == numel(shape_), "Dataset: ", bytes.size(), " bytes given for samples of shape ",
              shape_str(shape_), " (", numel(shape_), " values)");
  bytes_ = std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes));
}

Shape Dataset::sample_shape() const {
  XGRAD_CHECK(!shape_.empty(), "Dataset::sample_shape: the dataset is empty");
  return Shape(shape_.begin() + 1, shape_.end());
}

Tensor Dataset::inputs() const {
  if (!bytes_) return floats_;
  Tensor all = empty(shape_);
  data_detail::bytes_to_unit_floats(all.data(), bytes_->data(), bytes_->size());
  return all;
}

void Dataset::gather(const std::size_t* indices, std::size_t count, float* out) const {
  const std::size_t sample = numel(sample_shape());
  for (std::size_t b = 0; b < count; ++b) {
    const std::size_t i = indices[b];
    XGRAD_CHECK(i < size(), "Dataset::gather: index ", i, " is not below the ", size(), " samples");
    if (bytes_) {
      data_detail::bytes_to_unit_floats(out + b * sample, bytes_->data() + i * sample, sample);
    } else {
      std::memcpy(out + b * sample, floats_.data() + i * sample, sample * sizeof(float));
    }
  }
}

Dataset Dataset::subset(std::size_t begin, std::size_t end) const {
  XGRAD_CHECK(begin <= end && end <= size() && !shape_.empty(), "Dataset::subset: range [", begin, ", ", end,
              ") is not within the ", size(), " samples");
  Shape shape = shape_;
  shape[0] = end - begin;
  const std::size_t sample = numel(sample_shape());
  Labels labels(labels_.begin() + begin, labels_.begin() + end);
  if (bytes_) {
    return Dataset(shape, std::vector<std::uint8_t>(bytes_->begin() + begin * sample, bytes_->begin() + end * sample),
                   std::move(labels));
  }
  Tensor part = empty(shape);
  std::memcpy(part.data(), floats_.data() + begin * sample, (end - begin) * sample * sizeof(float));
  return Dataset(part, std::move(labels));
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
