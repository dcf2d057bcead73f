// TensorDataset, bincount and to_labels: see tensor_dataset.hpp.
#include "xgrad/data/tensor_dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "xgrad/core/error.hpp"
#include "xgrad/data/binary_file.hpp"

namespace xgrad {
namespace {

void check_labels(const Labels& labels, const char* op) {
  for (std::size_t i = 0; i < labels.size(); ++i)
    XGRAD_CHECK(labels[i] >= 0, op, ": label ", labels[i], " at index ", i, " is negative");
}

void check_sample_count(const Shape& shape, std::size_t targets, const std::string& what) {
  XGRAD_CHECK(shape.size() >= 1, "TensorDataset: inputs must have a sample axis first, got shape ",
              shape_str(shape));
  XGRAD_CHECK(shape[0] == targets, "TensorDataset: inputs of shape ", shape_str(shape), " hold ", shape[0],
              " samples but there are ", targets, " ", what);
}

Tensor rows(const Tensor& t, std::size_t begin, std::size_t end) {
  Shape shape = t.shape();
  const std::size_t row = numel(Shape(shape.begin() + 1, shape.end()));
  shape[0] = end - begin;
  Tensor part = empty(shape);
  std::memcpy(part.data(), t.data() + begin * row, (end - begin) * row * sizeof(float));
  return part;
}

}  // namespace

TensorDataset::TensorDataset(Tensor inputs, Labels labels) : floats_(std::move(inputs)), labels_(std::move(labels)) {
  XGRAD_CHECK(floats_.defined(), "TensorDataset: the inputs tensor is undefined");
  XGRAD_CHECK(!floats_.requires_grad(), "TensorDataset: inputs must not require grad");
  shape_ = floats_.shape();
  check_sample_count(shape_, labels_.size(), "labels");
  check_labels(labels_, "TensorDataset");
}

TensorDataset::TensorDataset(Tensor inputs, Tensor targets) : floats_(std::move(inputs)), targets_(std::move(targets)) {
  XGRAD_CHECK(floats_.defined() && targets_.defined(), "TensorDataset: the ",
              floats_.defined() ? "targets" : "inputs", " tensor is undefined");
  XGRAD_CHECK(!floats_.requires_grad() && !targets_.requires_grad(), "TensorDataset: ",
              floats_.requires_grad() ? "inputs" : "targets", " must not require grad");
  XGRAD_CHECK(targets_.dim() >= 1, "TensorDataset: targets must have a sample axis first, got shape ",
              shape_str(targets_.shape()));
  shape_ = floats_.shape();
  check_sample_count(shape_, targets_.size(0), "targets (targets of shape " + shape_str(targets_.shape()) + ")");
}

TensorDataset::TensorDataset(Shape shape, std::vector<std::uint8_t> bytes, Labels labels)
    : shape_(std::move(shape)), labels_(std::move(labels)) {
  check_sample_count(shape_, labels_.size(), "labels");
  check_labels(labels_, "TensorDataset");
  XGRAD_CHECK(bytes.size() == numel(shape_), "TensorDataset: ", bytes.size(), " bytes given for samples of shape ",
              shape_str(shape_), " (", numel(shape_), " values)");
  bytes_ = std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes));
}

Shape TensorDataset::sample_shape() const {
  XGRAD_CHECK(!shape_.empty(), "TensorDataset::sample_shape: the dataset is empty");
  return Shape(shape_.begin() + 1, shape_.end());
}

Tensor TensorDataset::inputs() const {
  if (!bytes_) return floats_;
  Tensor all = empty(shape_);
  data_detail::bytes_to_unit_floats(all.data(), bytes_->data(), bytes_->size());
  return all;
}

void TensorDataset::gather(const std::size_t* indices, std::size_t count, float* out) const {
  const std::size_t sample = numel(sample_shape());
  for (std::size_t b = 0; b < count; ++b) {
    const std::size_t i = indices[b];
    XGRAD_CHECK(i < size(), "TensorDataset::gather: index ", i, " is not below the ", size(), " samples");
    if (bytes_) {
      data_detail::bytes_to_unit_floats(out + b * sample, bytes_->data() + i * sample, sample);
    } else {
      std::memcpy(out + b * sample, floats_.data() + i * sample, sample * sizeof(float));
    }
  }
}

Sample TensorDataset::get(std::size_t index) const {
  Sample s;
  s.input = empty(sample_shape());
  gather(&index, 1, s.input.data());
  if (has_labels()) {
    s.label = labels_[index];
  } else {
    // (N, ...) -> one row, of shape (...): () for targets of shape (N).
    s.target = empty(Shape(targets_.shape().begin() + 1, targets_.shape().end()));
    const std::size_t row = s.target.numel();
    std::memcpy(s.target.data(), targets_.data() + index * row, row * sizeof(float));
  }
  return s;
}

void TensorDataset::collate(const std::size_t* indices, std::size_t count, Batch& out) const {
  Shape shape = shape_;
  shape[0] = count;
  // inputs[b] = sample indices[b] (as floats); labels[b] or targets[b] likewise.
  gather(indices, count, data_detail::batch_buffer(out.inputs, shape));
  if (has_labels()) {
    out.targets = Tensor();
    out.labels.resize(count);
    for (std::size_t b = 0; b < count; ++b) out.labels[b] = labels_[indices[b]];
    return;
  }
  out.labels.clear();
  Shape target_shape = targets_.shape();
  target_shape[0] = count;
  float* t = data_detail::batch_buffer(out.targets, target_shape);
  const std::size_t row = numel(Shape(target_shape.begin() + 1, target_shape.end()));
  for (std::size_t b = 0; b < count; ++b)
    std::memcpy(t + b * row, targets_.data() + indices[b] * row, row * sizeof(float));
}

TensorDataset TensorDataset::subset(std::size_t begin, std::size_t end) const {
  XGRAD_CHECK(begin <= end && end <= size() && !shape_.empty(), "TensorDataset::subset: range [", begin, ", ", end,
              ") is not within the ", size(), " samples");
  Shape shape = shape_;
  shape[0] = end - begin;
  const std::size_t sample = numel(sample_shape());
  if (bytes_) {
    return TensorDataset(shape,
                         std::vector<std::uint8_t>(bytes_->begin() + begin * sample, bytes_->begin() + end * sample),
                         Labels(labels_.begin() + begin, labels_.begin() + end));
  }
  if (has_labels()) return TensorDataset(rows(floats_, begin, end), Labels(labels_.begin() + begin, labels_.begin() + end));
  return TensorDataset(rows(floats_, begin, end), rows(targets_, begin, end));
}

std::vector<std::size_t> bincount(const Labels& labels, std::size_t minlength) {
  check_labels(labels, "bincount");
  std::size_t length = minlength;
  for (auto v : labels) length = std::max(length, static_cast<std::size_t>(v) + 1);
  std::vector<std::size_t> counts(length, 0);
  for (auto v : labels) ++counts[v];
  return counts;
}

Labels to_labels(const Tensor& values) {
  XGRAD_CHECK(values.defined() && (values.dim() == 1 || (values.dim() == 2 && values.size(1) == 1)),
              "to_labels: expected a tensor of shape (N) or (N, 1), got ",
              values.defined() ? shape_str(values.shape()) : std::string("an undefined tensor"));
  Labels labels(values.numel());
  const float* v = values.data();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    XGRAD_CHECK(v[i] >= 0 && v[i] < 2147483648.0f && std::floor(v[i]) == v[i], "to_labels: value ", v[i],
                " at row ", i, " is not a class index (a whole number >= 0)");
    labels[i] = static_cast<std::int32_t>(v[i]);
  }
  return labels;
}

}  // namespace xgrad
