// Dataset: an in-memory set of samples and their class labels, inputs (N, ...) with N == labels.size().
// Copying a Dataset shares the inputs' storage (like Tensor) and copies the labels.
// Not lazy and not a file format: the readers (idx.hpp, cifar.hpp) load whole files into one.
#pragma once
#include <cstddef>
#include <vector>

#include "core/tensor.hpp"

namespace xgrad {

class Dataset {
 public:
  Dataset() = default;  // empty: size() == 0, inputs() undefined
  // inputs: (N, ...) not requiring grad; labels: N values >= 0.
  Dataset(Tensor inputs, Labels labels);

  std::size_t size() const { return labels_.size(); }
  const Tensor& inputs() const { return inputs_; }
  const Labels& labels() const { return labels_; }
  // The shape of one sample: inputs' shape without its first axis, e.g. (1, 28, 28).
  Shape sample_shape() const;

  // A copy of samples [begin, end), e.g. to hold out a validation split.
  Dataset subset(std::size_t begin, std::size_t end) const;

 private:
  Tensor inputs_;
  Labels labels_;
};

// How many times each value occurs: counts[k] = #{i : labels[i] == k}, at least minlength entries
// (NumPy's and PyTorch's bincount). Labels must be >= 0.
std::vector<std::size_t> bincount(const Labels& labels, std::size_t minlength = 0);

}  // namespace xgrad
