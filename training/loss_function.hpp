// LossFunction: what fit and evaluate minimise and report, the model's output and the batch in, a one-element
// tensor out. default_loss picks the usual one from the batch: cross_entropy for class labels, mse_loss
// for float targets.
#pragma once
#include <functional>

#include "xgrad/core/tensor.hpp"
#include "xgrad/data/dataset.hpp"

namespace xgrad {

using LossFunction = std::function<Tensor(const Tensor& output, const Batch& batch)>;

// cross_entropy(output, batch.labels) when the batch has labels, else mse_loss(output, batch.targets).
Tensor default_loss(const Tensor& output, const Batch& batch);

}  // namespace xgrad
