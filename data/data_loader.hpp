// DataLoader: batches of any Dataset, like torch.utils.data.DataLoader. Each begin() starts an epoch: with
// shuffle on it draws a fresh permutation (Fisher-Yates on its own seeded Generator), then yields
// Batch{inputs (B, ...), labels or targets} in order (Dataset::collate), a transform applied to each
// batch's inputs. Same seed, same batches, bit for bit, with or without the prefetching worker.
//
//   DataLoader loader(train, {.batch_size = 128, .shuffle = true, .seed = 1}, compose({...}));
//   for (const Batch& batch : loader) { ... batch.inputs, batch.labels (or batch.targets) ... }
//   DataLoader mine(std::make_shared<MyDataset>(...), {.batch_size = 32, .num_workers = 1});
//
// The batch buffer is reused for the next batch when nothing else holds it (the last step's graph is
// gone); a batch kept alive elsewhere is never overwritten, the loader allocates a new one instead.
#pragma once
#include <cstddef>
#include <cstdint>
#include <concepts>
#include <iterator>
#include <memory>
#include <vector>

#include "xgrad/core/generator.hpp"
#include "xgrad/core/tensor.hpp"
#include "xgrad/data/dataset.hpp"
#include "xgrad/data/tensor_dataset.hpp"
#include "xgrad/data/worker_thread.hpp"
#include "xgrad/data/transforms.hpp"

namespace xgrad {

struct DataLoaderOptions {
  std::size_t batch_size = 1;
  bool shuffle = false;
  bool drop_last = false;  // drop the last batch when it is smaller than batch_size
  std::uint64_t seed = 0;  // seeds the shuffle and, separately, the transform's draws
  // Data-parallel sharding (PyTorch's DistributedSampler, cut in blocks): with num_replicas R > 1 every
  // rank draws the same permutation (same seed), cuts it into global batches of R * batch_size, and takes
  // the rank-th block of each, so the ranks' batches laid end to end in rank order are exactly the batch
  // one loader with batch_size R * batch_size yields. A last, smaller global batch is split as evenly as
  // possible (the first ranks get one more); with drop_last it is dropped, and without it, it is dropped
  // only when it has fewer samples than ranks (a rank would get none).
  std::size_t num_replicas = 1;
  std::size_t rank = 0;  // in [0, num_replicas)
  // 0: batches are collated when the iterator reaches them. 1: a worker thread collates (and transforms)
  // batch k + 1 while batch k is in use, in the same order with the same draws: the same batches, bit for
  // bit. The dataset's get()/collate() and the transform then run on that thread.
  std::size_t num_workers = 0;
};

class DataLoader {
 public:
  // Any dataset, shared with the caller (which must not change it while the loader iterates).
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {}, Transform transform = nullptr);
  // A dataset by value (a TensorDataset's copy shares its samples' storage).
  template <class D>
    requires std::derived_from<D, Dataset>
  DataLoader(D dataset, DataLoaderOptions options = {}, Transform transform = nullptr)
      : DataLoader(std::make_shared<const D>(std::move(dataset)), options, std::move(transform)) {}
  // Moved, not copied (two loaders over one generator would repeat each other's epochs). A move first drops
  // a batch being prefetched, as transform_generator() does; each loader keeps its own worker thread.
  DataLoader(DataLoader&& other);
  DataLoader& operator=(DataLoader&& other);

  // Batches per epoch: ceil(N / batch_size), or floor with drop_last (batch_size * num_replicas when sharded).
  std::size_t size() const;
  const Dataset& dataset() const { return *dataset_; }
  const DataLoaderOptions& options() const { return options_; }
  // The generators' states, so a checkpoint can resume the same sequence of epochs. With num_workers = 1,
  // transform_generator() drops the batch being prefetched and undoes its draws, so the state is always the
  // synchronous loader's (the next batch is then collated when reached).
  Generator& shuffle_generator() { return shuffle_gen_; }
  Generator& transform_generator();

  class Iterator {
   public:
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    const Batch& operator*() const { return loader_->current_; }
    const Batch* operator->() const { return &loader_->current_; }
    Iterator& operator++();
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return loader_ == nullptr || index_ >= loader_->size(); }

   private:
    friend class DataLoader;
    Iterator(DataLoader* loader, std::size_t index) : loader_(loader), index_(index) {}
    DataLoader* loader_ = nullptr;
    std::size_t index_ = 0;
  };

  // Starts a new epoch (reshuffling when shuffle is on) and loads its first batch. One epoch at a time:
  // calling begin() again restarts, and earlier iterators then follow the new epoch.
  Iterator begin();
  std::default_sentinel_t end() const { return {}; }

  // The sample indices of the current epoch, in the order they are batched.
  const std::vector<std::size_t>& order() const { return order_; }

 private:
  void advance(std::size_t batch_index);  // makes current_ batch `batch_index`, prefetching the next
  void load(Batch& out, std::size_t batch_index);
  void drop_prefetched();

  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  Transform transform_;
  Generator shuffle_gen_, transform_gen_;
  std::vector<std::size_t> order_;
  Batch current_;
  Batch next_;  // num_workers = 1: the batch the worker prefetches
  std::size_t prefetched_ = kNone;          // its index within the epoch, or kNone
  Generator transform_gen_before_prefetch_;  // to undo its draws when it is dropped
  std::unique_ptr<data_detail::WorkerThread> worker_;  // last: joined before the members it uses die
};

}  // namespace xgrad
