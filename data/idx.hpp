// Readers for the IDX format of MNIST and Fashion-MNIST (LeCun et al.): big-endian headers, raw bytes.
// Images (magic 2051) read as pixel / 255 of shape (N, 1, rows, cols); labels (magic 2049) become Labels.
// Uncompressed files only: scripts/fetch_data.sh decompresses. Every defect throws xgrad::Error naming it.
#pragma once
#include <string>

#include "xgrad/core/tensor.hpp"
#include "xgrad/data/tensor_dataset.hpp"

namespace xgrad {

// An IDX image file: magic 2051, then N, rows, cols (u32 big-endian), then N*rows*cols bytes.
Tensor read_idx_images(const std::string& path);

// An IDX label file: magic 2049, then N (u32 big-endian), then N bytes, each in [0, num_classes).
Labels read_idx_labels(const std::string& path, int num_classes = 10);

// dir/train-images-idx3-ubyte and dir/train-labels-idx1-ubyte (train) or the t10k-* pair (test), as
// MNIST and Fashion-MNIST both name them; checks that the image and label counts agree. The TensorDataset keeps
// the pixel bytes (47 MB for MNIST's training set, not 188 MB of floats). limit > 0: only the first `limit`
// images are read (the whole file is still size-checked). A file of 0 images is an error naming it.
TensorDataset load_mnist(const std::string& dir, bool train = true, std::size_t limit = 0);

}  // namespace xgrad
