// DataLoader: see data_loader.hpp.
#include "xgrad/data/data_loader.hpp"

#include <algorithm>
#include <numeric>

#include "xgrad/core/error.hpp"

namespace xgrad {
namespace {

// The transform's generator gets a seed unrelated to the shuffle's, so adding or removing an augmentation
// does not change the order of the samples.
constexpr std::uint64_t kTransformSeedSalt = 0x6a09e667f3bcc909ULL;

// Drops the batch's tensors that someone else still holds (a graph, a copy), so that collate allocates new
// ones instead of overwriting them.
void release_held(Batch& b) {
  for (Tensor* t : {&b.inputs, &b.targets}) {
    if (t->defined() && (t->shares_storage() || t->requires_grad())) *t = Tensor();
  }
}

}  // namespace

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options, Transform transform)
    : dataset_(std::move(dataset)),
      options_(options),
      transform_(std::move(transform)),
      shuffle_gen_(options.seed),
      transform_gen_(options.seed ^ kTransformSeedSalt) {
  XGRAD_CHECK(dataset_ != nullptr, "DataLoader: the dataset is null");
  XGRAD_CHECK(dataset_->size() > 0, "DataLoader: the dataset is empty");
  XGRAD_CHECK(options_.num_workers <= 1, "DataLoader: num_workers ", options_.num_workers,
              " is not supported (0: no worker, 1: one prefetching worker thread)");
  XGRAD_CHECK(options_.batch_size > 0, "DataLoader: batch_size must be positive");
  XGRAD_CHECK(options_.num_replicas > 0 && options_.rank < options_.num_replicas, "DataLoader: rank ",
              options_.rank, " is not in [0, num_replicas = ", options_.num_replicas, ")");
  XGRAD_CHECK(!options_.drop_last || options_.batch_size * options_.num_replicas <= dataset_->size(),
              "DataLoader: batch_size ", options_.batch_size, " with drop_last leaves no batch from ",
              dataset_->size(), " samples", options_.num_replicas > 1 ? " on the replicas" : "");
  XGRAD_CHECK(size() > 0, "DataLoader: ", dataset_->size(), " samples leave no batch on ", options_.num_replicas,
              " replicas (each needs a sample)");
  order_.resize(dataset_->size());
  std::iota(order_.begin(), order_.end(), std::size_t{0});
}

DataLoader::DataLoader(DataLoader&& other) { *this = std::move(other); }

DataLoader& DataLoader::operator=(DataLoader&& other) {
  if (this == &other) return *this;
  drop_prefetched();
  other.drop_prefetched();  // its worker no longer touches the members taken below
  dataset_ = std::move(other.dataset_);
  options_ = other.options_;
  transform_ = std::move(other.transform_);
  shuffle_gen_ = other.shuffle_gen_;
  transform_gen_ = other.transform_gen_;
  order_ = std::move(other.order_);
  current_ = std::move(other.current_);
  next_ = Batch();
  return *this;
}

std::size_t DataLoader::size() const {
  const std::size_t n = dataset_->size(), r = options_.num_replicas, b = options_.batch_size * r;
  if (options_.drop_last || n % b == 0) return n / b;
  return n / b + (n % b >= r ? 1 : 0);  // a last global batch only if every rank gets a sample
}

DataLoader::Iterator DataLoader::begin() {
  drop_prefetched();  // the worker may still read order_
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  if (options_.shuffle) {
    // Fisher-Yates: for i = N-1 .. 1, swap order[i] with order[j], j uniform in [0, i].
    for (std::size_t i = order_.size() - 1; i > 0; --i)
      std::swap(order_[i], order_[shuffle_gen_.below(i + 1)]);
  }
  advance(0);
  return Iterator(this, 0);
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  XGRAD_CHECK(loader_ != nullptr && index_ < loader_->size(), "DataLoader: iterator advanced past the end");
  if (++index_ < loader_->size()) loader_->advance(index_);
  return *this;
}

Generator& DataLoader::transform_generator() {
  drop_prefetched();  // its draws undone: the state the synchronous loader would have here
  return transform_gen_;
}

void DataLoader::drop_prefetched() {
  if (!worker_) return;
  worker_->wait();
  (void)worker_->take_error();  // a batch nobody asked for: its error with it
  if (prefetched_ != kNone) transform_gen_ = transform_gen_before_prefetch_;
  prefetched_ = kNone;
}

void DataLoader::advance(std::size_t batch_index) {
  if (options_.num_workers == 0) {
    release_held(current_);
    load(current_, batch_index);
    return;
  }
  if (!worker_) worker_ = std::make_unique<data_detail::WorkerThread>();
  worker_->wait();
  if (prefetched_ == batch_index) {
    prefetched_ = kNone;
    if (std::exception_ptr error = worker_->take_error()) std::rethrow_exception(error);  // where sync would throw
    std::swap(current_, next_);
  } else {
    drop_prefetched();  // begin() restarted the epoch, or the generator was read
    release_held(current_);
    load(current_, batch_index);
  }
  if (batch_index + 1 < size()) {
    release_held(next_);
    transform_gen_before_prefetch_ = transform_gen_;
    prefetched_ = batch_index + 1;
    worker_->start([this, batch_index] { load(next_, batch_index + 1); });
  }
}

void DataLoader::load(Batch& out, std::size_t batch_index) {
  // Global batch [start, start + global) of the epoch's order; this rank's block of it (see the options).
  const std::size_t R = options_.num_replicas, r = options_.rank;
  const std::size_t start = batch_index * options_.batch_size * R;
  const std::size_t global = std::min(options_.batch_size * R, dataset_->size() - start);
  const std::size_t base = global / R, extra = global % R;
  const std::size_t first = start + r * base + std::min(r, extra);
  const std::size_t count = base + (r < extra ? 1 : 0);
  dataset_->collate(order_.data() + first, count, out);
  XGRAD_CHECK(out.size() == count && (out.labels.size() == count) != out.targets.defined(),
              "DataLoader: the dataset's collate gave a batch of ", out.size(), " inputs, ", out.labels.size(),
              " labels and ", out.targets.defined() ? "" : "no ", "float targets for ", count, " samples");
  if (transform_) transform_(out.inputs, transform_gen_);
}

}  // namespace xgrad
