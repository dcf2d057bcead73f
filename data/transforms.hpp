// Batch transforms for the DataLoader, with torchvision's names: Normalize, RandomCrop (zero padding),
// RandomHorizontalFlip, and Compose. A transform rewrites a batch (N, C, H, W) in place, drawing any
// randomness from the generator it is handed, so the same seed gives the same batches bit for bit.
// Not autograd ops: they run on data before it enters a graph.
#pragma once
#include <cstddef>
#include <functional>
#include <vector>

#include "xgrad/core/generator.hpp"
#include "xgrad/core/tensor.hpp"

namespace xgrad {

// May replace `batch` by another tensor (e.g. one of a different size); never keeps a reference to it.
using Transform = std::function<void(Tensor& batch, Generator& gen)>;

// x = (x - mean[c]) / std[c] on the channel axis 1 of a (N, C, ...) batch.
class Normalize {
 public:
  Normalize(std::vector<float> mean, std::vector<float> std);
  void operator()(Tensor& batch, Generator& gen) const;

 private:
  std::vector<float> mean_, std_;
};

// Pads each image with `padding` zeros on every side, then cuts a size x size window at a random offset
// (top, left) in [0, H + 2 * padding - size] x [0, W + 2 * padding - size], drawn per image as
// gen.below(...) for top then left. Output (N, C, size, size).
class RandomCrop {
 public:
  explicit RandomCrop(std::size_t size, std::size_t padding = 0);
  void operator()(Tensor& batch, Generator& gen);

 private:
  std::size_t size_, padding_;
  Tensor spare_;  // the output buffer, swapped with the batch so two buffers serve every call
};

// Mirrors each image left-right with probability p, one gen.uniform() < p draw per image.
class RandomHorizontalFlip {
 public:
  explicit RandomHorizontalFlip(float p = 0.5f);
  void operator()(Tensor& batch, Generator& gen) const;

 private:
  float p_;
};

// Applies the transforms in order, all drawing from the same generator.
Transform compose(std::vector<Transform> transforms);

// Per-channel mean and population standard deviation (divisor N*H*W) of images (N, C, ...), accumulated
// in double: the constants Normalize wants, fitted on a training set.
struct ChannelStats {
  std::vector<float> mean, std;
};
ChannelStats channel_mean_std(const Tensor& images);

// Kernels on one image, exposed for tests.
// out: (C, OH, OW), in: (C, H, W); window origin (top, left) in the image padded by `padding` zeros.
void crop_padded(float* out, const float* in, std::size_t C, std::size_t H, std::size_t W, std::size_t OH,
                 std::size_t OW, std::size_t top, std::size_t left, std::size_t padding);
// image: (C, H, W), mirrored left-right in place.
void flip_horizontal(float* image, std::size_t C, std::size_t H, std::size_t W);

}  // namespace xgrad
