// DataLoader with num_workers = 1: the same batches, bit for bit, as without the worker (shuffle and random
// augmentation included), across an epoch cut short, a generator read mid-epoch and a move; errors of the
// dataset surface at the batch that needs them; held batches are not overwritten.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "xgrad/data/data_loader.hpp"
#include "xgrad/data/tensor_dataset.hpp"
#include "xgrad/data/transforms.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

namespace {

// 37 byte images (3, 6, 6) with labels, like a small CIFAR.
TensorDataset images() {
  std::vector<std::uint8_t> bytes(37 * 3 * 6 * 6);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>((i * 37 + i / 7) % 251);
  Labels labels(37);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int32_t>(i % 10);
  return TensorDataset({37, 3, 6, 6}, bytes, labels);
}

Transform augment() {
  return compose({RandomCrop(6, 2), RandomHorizontalFlip(), Normalize({0.5f, 0.4f, 0.3f}, {0.2f, 0.25f, 0.3f})});
}

DataLoader loader(std::size_t workers) {
  return DataLoader(images(), {.batch_size = 8, .shuffle = true, .seed = 11, .num_workers = workers}, augment());
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.numel() * sizeof(float)) == 0;
}

// Up to `stop` batches of the next epoch, as copies.
std::vector<Batch> collect_epoch(DataLoader& l, std::size_t stop = 1000) {
  std::vector<Batch> out;
  for (const Batch& b : l) {
    out.push_back({b.inputs.clone(), b.labels, Tensor()});
    if (out.size() == stop) break;
  }
  return out;
}

void check_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    CHECK(same_bits(a[k].inputs, b[k].inputs));
    CHECK(a[k].labels == b[k].labels);
  }
}

}  // namespace

TEST_CASE("DataLoader num_workers = 1: bit-identical batches, epoch after epoch", "[data][loader][workers]") {
  DataLoader sync = loader(0), prefetch = loader(1);
  for (int e = 0; e < 3; ++e) check_same(collect_epoch(sync), collect_epoch(prefetch));
  CHECK(sync.transform_generator().state() == prefetch.transform_generator().state());
  CHECK(sync.shuffle_generator().state() == prefetch.shuffle_generator().state());
}

TEST_CASE("DataLoader num_workers = 1: an epoch cut short, a generator read mid-epoch, a move",
          "[data][loader][workers]") {
  DataLoader sync = loader(0), prefetch = loader(1);
  check_same(collect_epoch(sync, 2), collect_epoch(prefetch, 2));  // batch 3 was prefetched, then dropped with its draws
  check_same(collect_epoch(sync), collect_epoch(prefetch));
  // Mid-epoch: the generator the synchronous loader would have.
  auto a = sync.begin();
  auto b = prefetch.begin();
  ++a;
  ++b;
  CHECK(sync.transform_generator().state() == prefetch.transform_generator().state());
  ++a;
  ++b;
  CHECK(same_bits(a->inputs, b->inputs));
  DataLoader moved = std::move(prefetch);
  check_same(collect_epoch(sync), collect_epoch(moved));
}

TEST_CASE("DataLoader num_workers = 1: a held batch is never overwritten", "[data][loader][workers]") {
  DataLoader prefetch(images(), {.batch_size = 8, .num_workers = 1});
  auto it = prefetch.begin();
  const Tensor held = it->inputs;  // shares the batch's storage
  const std::vector<float> before = held.to_vector();
  ++it;
  ++it;
  ++it;
  CHECK(held.to_vector() == before);
  CHECK_FALSE(it->inputs.same(held));
}

namespace {

struct FailsAt : Dataset {
  std::size_t bad;
  explicit FailsAt(std::size_t bad) : bad(bad) {}
  std::size_t size() const override { return 20; }
  Sample get(std::size_t i) const override {
    if (i == bad) throw Error("sample " + std::to_string(i) + " cannot be read");
    return {Tensor{float(i)}, Tensor(), 0};
  }
};

}  // namespace

TEST_CASE("DataLoader num_workers = 1: a dataset's error surfaces at the batch that needs it",
          "[data][loader][workers][errors]") {
  for (std::size_t workers : {0, 1}) {
    DataLoader l(FailsAt(13), {.batch_size = 4, .num_workers = workers});
    auto it = l.begin();
    ++it;
    ++it;
    CHECK(it->inputs.at({0, 0}) == 8.0f);
    CHECK_THROWS_WITH(++it, "sample 13 cannot be read");
    // The next epoch starts afresh, and fails at the same place.
    auto again = l.begin();
    CHECK(again->inputs.at({0, 0}) == 0.0f);
  }
  CHECK_THROWS_WITH(DataLoader(FailsAt(99), {.num_workers = 2}),
                    "DataLoader: num_workers 2 is not supported (0: no worker, 1: one prefetching worker thread)");
}
