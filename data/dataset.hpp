// Dataset: an in-memory set of samples and their class labels, N samples of one shape with N labels.
// Samples are stored either as floats (a Tensor) or as bytes read as v / 255 (torchvision's ToTensor
// convention), a quarter of the memory: the image readers (idx.hpp, cifar.hpp) keep the files' bytes, and
// the DataLoader converts one batch at a time. Copying a Dataset shares the samples' storage (like Tensor)
// and copies the labels. Not lazy and not a file format: the readers load whole files into one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

class Dataset {
 public:
  Dataset() = default;  // empty: size() == 0, inputs() undefined
  // Float samples. inputs: (N, ...) not requiring grad; labels: N values >= 0.
  Dataset(Tensor inputs, Labels labels);
  // Byte samples, sample value v / 255. shape: (N, ...), bytes: numel(shape) values; labels: N values >= 0.
  Dataset(Shape shape, std::vector<std::uint8_t> bytes, Labels labels);

  std::size_t size() const { return labels_.size(); }
  const Labels& labels() const { return labels_; }
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
  Dataset subset(std::size_t begin, std::size_t end) const;

 private:
  Shape shape_;
  Tensor floats_;                                      // float samples, or
  std::shared_ptr<const std::vector<std::uint8_t>> bytes_;  // byte samples
  Labels labels_;
};

// How many times each value occurs: counts[k] = #{i : labels[i] == k}, at least minlength entries
// (NumPy's and PyTorch's bincount). Labels must be >= 0.
std::vector<std::size_t> bincount(const Labels& labels, std::size_t minlength = 0);

}  // namespace xgrad
