// TensorDataset: N in-memory samples of one shape with N targets, class labels or float tensors (PyTorch's
// TensorDataset(X, Y)). Samples are stored either as floats (a Tensor) or as bytes read as v / 255
// (torchvision's ToTensor convention), a quarter of the memory: the image readers (idx.hpp, cifar.hpp) keep
// the files' bytes, and the batch is converted as it is collated. Copying a TensorDataset shares the
// samples' and float targets' storage (like Tensor) and copies the labels. Not lazy and not a file format.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "xgrad/core/tensor.hpp"
#include "xgrad/data/dataset.hpp"

namespace xgrad {

class TensorDataset : public Dataset {
 public:
  TensorDataset() = default;  // empty: size() == 0, inputs() undefined
  // Float samples with class labels. inputs: (N, ...) not requiring grad; labels: N values >= 0.
  TensorDataset(Tensor inputs, Labels labels);
  // Braced labels, TensorDataset(x, {0, 2, 1}), read as labels and not as a float tensor.
  TensorDataset(Tensor inputs, std::initializer_list<std::int32_t> labels)
      : TensorDataset(std::move(inputs), Labels(labels)) {}
  // Float samples with float targets. inputs: (N, ...), targets: (N, ...), neither requiring grad.
  TensorDataset(Tensor inputs, Tensor targets);
  // Byte samples, sample value v / 255. shape: (N, ...), bytes: numel(shape) values; labels: N values >= 0.
  TensorDataset(Shape shape, std::vector<std::uint8_t> bytes, Labels labels);

  std::size_t size() const override { return shape_.empty() ? 0 : shape_[0]; }
  Sample get(std::size_t index) const override;
  void collate(const std::size_t* indices, std::size_t count, Batch& out) const override;

  bool has_labels() const { return !targets_.defined(); }
  const Labels& labels() const { return labels_; }     // empty when the targets are floats
  const Tensor& targets() const { return targets_; }   // (N, ...), undefined when the targets are labels
  // (N, ...): all samples, as inputs() would have them.
  const Shape& shape() const { return shape_; }
  // The shape of one sample: shape() without its first axis, e.g. (1, 28, 28).
  Shape sample_shape() const;
  bool stores_bytes() const { return bytes_ != nullptr; }

  // All samples as one float tensor (N, ...): the stored tensor itself for float samples; for byte samples
  // a new tensor, four times their memory (the DataLoader converts per batch instead).
  Tensor inputs() const;

  // Writes samples indices[0], ..., indices[count - 1] as floats, one after another, to `out`
  // (count * numel(sample_shape()) floats). Indices must be < size().
  void gather(const std::size_t* indices, std::size_t count, float* out) const;

  // A copy of samples [begin, end), stored as this one's are, e.g. to hold out a validation split.
  TensorDataset subset(std::size_t begin, std::size_t end) const;

 private:
  Shape shape_;
  Tensor floats_;                                           // float samples, or
  std::shared_ptr<const std::vector<std::uint8_t>> bytes_;  // byte samples
  Labels labels_;                                           // class labels, or
  Tensor targets_;                                          // float targets
};

// How many times each value occurs: counts[k] = #{i : labels[i] == k}, at least minlength entries
// (NumPy's and PyTorch's bincount). Labels must be >= 0.
std::vector<std::size_t> bincount(const Labels& labels, std::size_t minlength = 0);

// Class labels from a float tensor of shape (N) or (N, 1) holding whole numbers >= 0 (e.g. a CSV column).
Labels to_labels(const Tensor& values);

}  // namespace xgrad
