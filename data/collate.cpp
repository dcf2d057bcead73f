// The default Dataset::collate: samples from get(), stacked, each checked against the batch's first one so
// that a dataset of ragged samples fails naming the sample instead of writing out of bounds.
#include <cstring>

#include "xgrad/core/error.hpp"
#include "xgrad/data/dataset.hpp"

namespace xgrad {
namespace {

Shape stacked(std::size_t count, const Shape& sample) {
  Shape shape{count};
  shape.insert(shape.end(), sample.begin(), sample.end());
  return shape;
}

// Checks sample `index` (the b-th of the batch) against the batch's first, `first`.
void check_sample(const Sample& s, const Sample& first, std::size_t index) {
  XGRAD_CHECK(s.input.defined(), "Dataset::get(", index, "): the sample's input is undefined");
  XGRAD_CHECK(s.target.defined() != (s.label >= 0), "Dataset::get(", index, "): a sample needs exactly one target, ",
              "a float tensor or a class label >= 0 (got ", s.target.defined() ? "both" : "neither", ")");
  XGRAD_CHECK(s.input.shape() == first.input.shape(), "Dataset::get(", index, "): input of shape ",
              shape_str(s.input.shape()), ", but the batch's first sample's is ", shape_str(first.input.shape()));
  XGRAD_CHECK(s.target.defined() == first.target.defined(), "Dataset::get(", index, "): a ",
              s.target.defined() ? "float target" : "class label", " where the batch's first sample has a ",
              first.target.defined() ? "float target" : "class label");
  XGRAD_CHECK(!s.target.defined() || s.target.shape() == first.target.shape(), "Dataset::get(", index,
              "): target of shape ", shape_str(s.target.shape()), ", but the batch's first sample's is ",
              shape_str(first.target.shape()));
}

}  // namespace

void Dataset::collate(const std::size_t* indices, std::size_t count, Batch& out) const {
  XGRAD_CHECK(count > 0, "Dataset::collate: an empty batch");
  const Sample first = get(indices[0]);
  check_sample(first, first, indices[0]);
  const std::size_t in_size = first.input.numel();
  const std::size_t target_size = first.target.defined() ? first.target.numel() : 0;
  float* inputs = data_detail::batch_buffer(out.inputs, stacked(count, first.input.shape()));
  float* targets = nullptr;
  if (first.target.defined()) {
    targets = data_detail::batch_buffer(out.targets, stacked(count, first.target.shape()));
    out.labels.clear();
  } else {
    out.targets = Tensor();
    out.labels.resize(count);
  }
  // inputs[b] = get(indices[b]).input, and likewise the target.
  for (std::size_t b = 0; b < count; ++b) {
    const Sample s = b == 0 ? first : get(indices[b]);
    if (b > 0) check_sample(s, first, indices[b]);
    std::memcpy(inputs + b * in_size, s.input.data(), in_size * sizeof(float));
    if (targets) {
      std::memcpy(targets + b * target_size, s.target.data(), target_size * sizeof(float));
    } else {
      out.labels[b] = s.label;
    }
  }
}

float* data_detail::batch_buffer(Tensor& t, const Shape& shape) {
  if (!t.defined() || t.shape() != shape) t = empty(shape);
  return t.data();
}

}  // namespace xgrad
