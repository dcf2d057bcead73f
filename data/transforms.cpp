// Batch transforms and their one-image kernels: see transforms.hpp.
#include "xgrad/data/transforms.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "xgrad/core/error.hpp"

namespace xgrad {
namespace {

void check_images(const Tensor& batch, const char* op) {
  XGRAD_CHECK(batch.defined() && batch.dim() == 4, op, ": expected a batch of images (N, C, H, W), got ",
              batch.defined() ? shape_str(batch.shape()) : std::string("an undefined tensor"));
}

// True when nobody but `t` itself holds its buffer, so overwriting it cannot change what a caller sees.
bool reusable(const Tensor& t, const Shape& shape) {
  return t.defined() && t.shape() == shape && !t.shares_storage() && !t.requires_grad();
}

}  // namespace

// ---- kernels ----

void crop_padded(float* out, const float* in, std::size_t C, std::size_t H, std::size_t W, std::size_t OH,
                 std::size_t OW, std::size_t top, std::size_t left, std::size_t padding) {
  // out[c, y, x] = in[c, y + top - padding, x + left - padding], or 0 where that falls outside (H, W).
  // Signed offsets: the window may start in the padding (top < padding).
  const long dy = static_cast<long>(top) - static_cast<long>(padding);
  const long dx = static_cast<long>(left) - static_cast<long>(padding);
  // The window's columns that land inside the image: x in [x0, x1).
  const long x0 = std::clamp(-dx, 0L, static_cast<long>(OW));
  const long x1 = std::clamp(static_cast<long>(W) - dx, x0, static_cast<long>(OW));
  for (std::size_t c = 0; c < C; ++c) {
    for (std::size_t y = 0; y < OH; ++y) {
      float* row = out + (c * OH + y) * OW;
      const long sy = static_cast<long>(y) + dy;
      if (sy < 0 || sy >= static_cast<long>(H)) {
        std::fill(row, row + OW, 0.0f);
        continue;
      }
      const float* src = in + (c * H + sy) * W;
      std::fill(row, row + x0, 0.0f);
      std::copy(src + x0 + dx, src + x1 + dx, row + x0);
      std::fill(row + x1, row + OW, 0.0f);
    }
  }
}

void flip_horizontal(float* image, std::size_t C, std::size_t H, std::size_t W) {
  // image[c, y, x] <-> image[c, y, W - 1 - x]
  for (std::size_t row = 0; row < C * H; ++row) std::reverse(image + row * W, image + (row + 1) * W);
}

// ---- transforms ----

Normalize::Normalize(std::vector<float> mean, std::vector<float> std)
    : mean_(std::move(mean)), std_(std::move(std)) {
  XGRAD_CHECK(!mean_.empty() && mean_.size() == std_.size(), "Normalize: ", mean_.size(), " means and ",
              std_.size(), " standard deviations: need one of each per channel");
  for (std::size_t c = 0; c < std_.size(); ++c)
    XGRAD_CHECK(std_[c] > 0 && std::isfinite(std_[c]) && std::isfinite(mean_[c]), "Normalize: channel ", c,
                " has mean ", mean_[c], " and std ", std_[c], " (std must be positive and both finite)");
}

void Normalize::operator()(Tensor& batch, Generator&) const {
  XGRAD_CHECK(batch.defined() && batch.dim() >= 2 && batch.size(1) == mean_.size(),
              "Normalize: batch of shape ",
              batch.defined() ? shape_str(batch.shape()) : std::string("(undefined)"), " does not have ",
              mean_.size(), " channels on axis 1");
  const std::size_t N = batch.size(0), C = mean_.size(),
                    inner = batch.numel() / std::max<std::size_t>(1, N * C);
  float* x = batch.data();
  // x[n, c, i] = (x[n, c, i] - mean[c]) / std[c]: a division, as torchvision computes it.
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c) {
      float* p = x + (n * C + c) * inner;
      const float m = mean_[c], s = std_[c];
      for (std::size_t i = 0; i < inner; ++i) p[i] = (p[i] - m) / s;
    }
}

RandomCrop::RandomCrop(std::size_t size, std::size_t padding) : size_(size), padding_(padding) {
  XGRAD_CHECK(size > 0, "RandomCrop: size must be positive");
}

void RandomCrop::operator()(Tensor& batch, Generator& gen) {
  check_images(batch, "RandomCrop");
  const std::size_t N = batch.size(0), C = batch.size(1), H = batch.size(2), W = batch.size(3);
  XGRAD_CHECK(size_ <= H + 2 * padding_ && size_ <= W + 2 * padding_, "RandomCrop: a ", size_, "x", size_,
              " window does not fit images of ", H, "x", W, " padded by ", padding_);
  const Shape out_shape{N, C, size_, size_};
  if (!reusable(spare_, out_shape)) spare_ = empty(out_shape);
  const float* in = batch.data();
  float* out = spare_.data();
  for (std::size_t n = 0; n < N; ++n) {
    const std::size_t top = gen.below(H + 2 * padding_ - size_ + 1);
    const std::size_t left = gen.below(W + 2 * padding_ - size_ + 1);
    crop_padded(out + n * C * size_ * size_, in + n * C * H * W, C, H, W, size_, size_, top, left, padding_);
  }
  std::swap(batch, spare_);
}

RandomHorizontalFlip::RandomHorizontalFlip(float p) : p_(p) {
  XGRAD_CHECK(p >= 0 && p <= 1, "RandomHorizontalFlip: p ", p, " is not in [0, 1]");
}

void RandomHorizontalFlip::operator()(Tensor& batch, Generator& gen) const {
  check_images(batch, "RandomHorizontalFlip");
  const std::size_t N = batch.size(0), C = batch.size(1), H = batch.size(2), W = batch.size(3);
  for (std::size_t n = 0; n < N; ++n)
    if (gen.uniform() < p_) flip_horizontal(batch.data() + n * C * H * W, C, H, W);
}

Transform compose(std::vector<Transform> transforms) {
  for (std::size_t i = 0; i < transforms.size(); ++i)
    XGRAD_CHECK(transforms[i] != nullptr, "compose: transform ", i, " is empty");
  return [transforms = std::move(transforms)](Tensor& batch, Generator& gen) mutable {
    for (auto& t : transforms) t(batch, gen);
  };
}

ChannelStats channel_mean_std(const Tensor& images) {
  XGRAD_CHECK(images.defined() && images.dim() >= 2 && images.numel() > 0,
              "channel_mean_std: expected a "
              "non-empty (N, C, ...), got ",
              images.defined() ? shape_str(images.shape()) : std::string("(undefined)"));
  const std::size_t N = images.size(0), C = images.size(1), inner = images.numel() / (N * C);
  const float* x = images.data();
  ChannelStats stats;
  for (std::size_t c = 0; c < C; ++c) {
    // Two passes in double: mean = sum x / M, var = sum (x - mean)^2 / M, M = N * inner.
    double sum = 0;
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t i = 0; i < inner; ++i) sum += x[(n * C + c) * inner + i];
    const double count = static_cast<double>(N * inner), mean = sum / count;
    double squares = 0;
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t i = 0; i < inner; ++i) {
        const double d = x[(n * C + c) * inner + i] - mean;
        squares += d * d;
      }
    stats.mean.push_back(static_cast<float>(mean));
    stats.std.push_back(static_cast<float>(std::sqrt(squares / count)));
  }
  return stats;
}

}  // namespace xgrad
