// DataLoader: see data_loader.hpp.
#include "xgrad/data/data_loader.hpp"

#include <algorithm>
#include <numeric>

#include "xgrad/core/error.hpp"
#include "xgrad/core/tensor_impl.hpp"

namespace xgrad {
namespace {

// The transform's generator gets a seed unrelated to the shuffle's, so adding or removing an augmentation
// does not change the order of the samples.
constexpr std::uint64_t kTransformSeedSalt = 0x6a09e667f3bcc909ULL;

bool reusable(const Tensor& t, const Shape& shape) {
  return t.defined() && t.shape() == shape && t.impl_ptr().use_count() == 1 &&
         t.impl()->storage.use_count() == 1 && !t.requires_grad();
}

}  // namespace

DataLoader::DataLoader(Dataset dataset, DataLoaderOptions options, Transform transform)
    : dataset_(std::move(dataset)),
      options_(options),
      transform_(std::move(transform)),
      shuffle_gen_(options.seed),
      transform_gen_(options.seed ^ kTransformSeedSalt) {
  XGRAD_CHECK(dataset_.size() > 0, "DataLoader: the dataset is empty");
  XGRAD_CHECK(options_.batch_size > 0, "DataLoader: batch_size must be positive");
  XGRAD_CHECK(options_.num_replicas > 0 && options_.rank < options_.num_replicas, "DataLoader: rank ",
              options_.rank, " is not in [0, num_replicas = ", options_.num_replicas, ")");
  XGRAD_CHECK(!options_.drop_last || options_.batch_size * options_.num_replicas <= dataset_.size(),
              "DataLoader: batch_size ", options_.batch_size, " with drop_last leaves no batch from ",
              dataset_.size(), " samples", options_.num_replicas > 1 ? " on the replicas" : "");
  XGRAD_CHECK(size() > 0, "DataLoader: ", dataset_.size(), " samples leave no batch on ", options_.num_replicas,
              " replicas (each needs a sample)");
  order_.resize(dataset_.size());
  std::iota(order_.begin(), order_.end(), std::size_t{0});
}

std::size_t DataLoader::size() const {
  const std::size_t n = dataset_.size(), r = options_.num_replicas, b = options_.batch_size * r;
  if (options_.drop_last || n % b == 0) return n / b;
  return n / b + (n % b >= r ? 1 : 0);  // a last global batch only if every rank gets a sample
}

DataLoader::Iterator DataLoader::begin() {
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  if (options_.shuffle) {
    // Fisher-Yates: for i = N-1 .. 1, swap order[i] with order[j], j uniform in [0, i].
    for (std::size_t i = order_.size() - 1; i > 0; --i)
      std::swap(order_[i], order_[shuffle_gen_.below(i + 1)]);
  }
  load(0);
  return Iterator(this, 0);
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  XGRAD_CHECK(loader_ != nullptr && index_ < loader_->size(), "DataLoader: iterator advanced past the end");
  if (++index_ < loader_->size()) loader_->load(index_);
  return *this;
}

void DataLoader::load(std::size_t batch_index) {
  // Global batch [start, start + global) of the epoch's order; this rank's block of it (see the options).
  const std::size_t R = options_.num_replicas, r = options_.rank;
  const std::size_t start = batch_index * options_.batch_size * R;
  const std::size_t global = std::min(options_.batch_size * R, dataset_.size() - start);
  const std::size_t base = global / R, extra = global % R;
  const std::size_t first = start + r * base + std::min(r, extra);
  const std::size_t count = base + (r < extra ? 1 : 0);
  Shape shape = dataset_.shape();
  shape[0] = count;
  if (!reusable(current_.inputs, shape)) current_.inputs = empty(shape);

  // inputs[b] = dataset sample order[first + b] (as floats), labels[b] likewise.
  dataset_.gather(order_.data() + first, count, current_.inputs.data());
  current_.labels.resize(count);
  for (std::size_t b = 0; b < count; ++b) current_.labels[b] = dataset_.labels()[order_[first + b]];
  if (transform_) transform_(current_.inputs, transform_gen_);
}

}  // namespace xgrad
