// The checks the trainers make on their data before training, so that a wrong file fails at once, naming
// it, and not after an epoch inside a layer: the sample shape the model takes, a non-empty set; and the
// training loader's options (a last batch of one sample is dropped when the model has BatchNorm, which
// cannot normalize a single value per channel).
#pragma once
#include <cstddef>
#include <string>

#include "xgrad/core/shape.hpp"
#include "xgrad/data/data_loader.hpp"
#include "xgrad/data/tensor_dataset.hpp"

namespace xgrad::examples {

// Throws xgrad::Error naming `file` when `set` is empty or its samples are not of shape `expected`.
void check_samples(const TensorDataset& set, const Shape& expected, const std::string& file);

// Batches of `batch_size`, shuffled with `seed`; drop_last when `batch_norm` and the last batch would hold a
// single sample (said on stderr). Every other last batch is kept, so the usual runs stay bit-identical.
DataLoaderOptions training_loader_options(std::size_t train_size, std::size_t batch_size, std::uint64_t seed,
                                          bool batch_norm);

}  // namespace xgrad::examples
