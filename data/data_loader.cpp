// DataLoader: see data_loader.hpp.
#include "xgrad/data/data_loader.hpp"

#include <numeric>

#include "xgrad/core/error.hpp"

namespace xgrad {
namespace {

// The transform's generator gets a seed unrelated to the shuffle's, so adding or removing an augmentation
// does not change the order of the samples.
constexpr std::uint64_t kTransformSeedSalt = 0x6a09e667f3bcc909ULL;

bool reusable(const Tensor& t, const Shape& shape) {
  return t.defined() && t.shape() == shape && !t.shares_storage() && !t.requires_grad();
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
  XGRAD_CHECK(!options_.drop_last || options_.batch_size <= dataset_.size(), "DataLoader: batch_size ",
              options_.batch_size, " with drop_last leaves no batch from ", dataset_.size(), " samples");
  order_.resize(dataset_.size());
  std::iota(order_.begin(), order_.end(), std::size_t{0});
}

std::size_t DataLoader::size() const {
  const std::size_t n = dataset_.size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
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
  const std::size_t first = batch_index * options_.batch_size;
  const std::size_t count = std::min(options_.batch_size, dataset_.size() - first);
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
