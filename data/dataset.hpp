// Dataset: the interface a data source implements for the DataLoader, like torch.utils.data.Dataset: its
// size and one sample by index, as an input tensor and a target (a float tensor, or a class label).
// Batch: samples stacked along a new first axis. TensorDataset (tensor_dataset.hpp) is the in-memory one;
// the MNIST and CIFAR readers return it. Not an iterable stream: samples are reached by index.
//
//   struct Squares : xgrad::Dataset {            // input (1): x, target (1): x * x
//     std::size_t size() const override { return 100; }
//     xgrad::Sample get(std::size_t i) const override {
//       const float x = float(i) / 100;
//       return {xgrad::Tensor{x}, xgrad::Tensor{x * x}};
//     }
//   };
#pragma once
#include <cstddef>
#include <cstdint>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

// One sample: an input and either a float target or a class label.
struct Sample {
  Tensor input;             // e.g. (1, 28, 28) or (F)
  Tensor target;            // a float target of any shape, e.g. (1) or (); undefined when `label` is the target
  std::int32_t label = -1;  // a class index >= 0, when `target` is undefined
};

// B samples stacked: inputs[b] is sample b's input; the targets are either labels or a float tensor.
struct Batch {
  Tensor inputs;   // (B, ...input shape), after the loader's transform
  Labels labels;   // B class labels, when the dataset's targets are labels (else empty)
  Tensor targets;  // (B, ...target shape), when the targets are float tensors (else undefined)
  std::size_t size() const { return inputs.defined() ? inputs.size(0) : 0; }
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::size_t size() const = 0;
  // Sample `index` < size(). Every sample has the same input shape, and the same kind of target (and shape).
  virtual Sample get(std::size_t index) const = 0;
  // Writes samples indices[0], ..., indices[count - 1] into `out` (count >= 1), reusing out's tensors when
  // they are defined and of the right shape (the loader leaves them undefined when someone else holds them).
  // The default calls get() per sample and copies; a dataset in contiguous memory overrides it (TensorDataset
  // copies rows straight into the batch). A DataLoader with num_workers = 1 calls get() and collate() from its
  // worker thread, one call at a time: a dataset must not change while a loader iterates over it.
  virtual void collate(const std::size_t* indices, std::size_t count, Batch& out) const;
};

namespace data_detail {
// `t` itself when it is a (shape) tensor, else a new uninitialized one (which it then holds).
float* batch_buffer(Tensor& t, const Shape& shape);
}  // namespace data_detail

}  // namespace xgrad
