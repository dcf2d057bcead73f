// Reader for the CIFAR-10 binary version (Krizhevsky, "cifar-10-batches-bin"): each record is one label
// byte in [0, 10) and 3072 pixel bytes, the R, G and B planes of a 32x32 image, row-major.
// Images of shape (N, 3, 32, 32), kept as bytes in the TensorDataset and read as pixel / 255 (floats in [0, 1]).
// Not the Python (pickle) version.
#pragma once
#include <string>
#include <vector>

#include "xgrad/data/tensor_dataset.hpp"

namespace xgrad {

// One batch file (data_batch_1.bin ... test_batch.bin): any whole number of records, at least one.
// limit > 0: only the first `limit` records are read (every file is still size-checked). A gzip-compressed
// file is named as such.
TensorDataset read_cifar10(const std::string& path, std::size_t limit = 0);

// Several batch files concatenated in order, read straight into one tensor.
TensorDataset read_cifar10(const std::vector<std::string>& paths, std::size_t limit = 0);

// dir/data_batch_1.bin ... data_batch_5.bin (train, 50,000 images) or dir/test_batch.bin (10,000).
TensorDataset load_cifar10(const std::string& dir, bool train = true, std::size_t limit = 0);

}  // namespace xgrad
