// DataLoader: batching, drop_last, seeded shuffling (each index once per epoch, bit-identical reruns),
// buffer reuse that never overwrites a batch someone still holds, and bad options.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <numeric>
#include <vector>

#include "xgrad/data/data_loader.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

namespace {

// Sample i is the row (i, i + 0.5) with label i % 3, so a batch tells which samples it holds.
TensorDataset numbered(std::size_t n) {
  std::vector<float> values;
  Labels labels;
  for (std::size_t i = 0; i < n; ++i) {
    values.push_back(static_cast<float>(i));
    values.push_back(static_cast<float>(i) + 0.5f);
    labels.push_back(static_cast<std::int32_t>(i % 3));
  }
  return TensorDataset(from_vector(values, {n, 2}), labels);
}

// The sample indices of one epoch, batch by batch, checking each batch's rows and labels agree.
std::vector<std::vector<std::size_t>> epoch(DataLoader& loader) {
  std::vector<std::vector<std::size_t>> batches;
  for (const Batch& batch : loader) {
    const Tensor& x = batch.inputs;
    const Labels& y = batch.labels;
    REQUIRE(x.dim() == 2);
    REQUIRE(x.size(0) == y.size());
    std::vector<std::size_t> ids;
    for (std::size_t b = 0; b < y.size(); ++b) {
      const auto i = static_cast<std::size_t>(x.at({b, 0}));
      CHECK(x.at({b, 1}) == static_cast<float>(i) + 0.5f);
      CHECK(y[b] == static_cast<std::int32_t>(i % 3));
      ids.push_back(i);
    }
    batches.push_back(ids);
  }
  return batches;
}

}  // namespace

TEST_CASE("DataLoader: batches in order, last batch short unless drop_last", "[data][loader]") {
  DataLoader loader(numbered(10), {.batch_size = 4});
  CHECK(loader.size() == 3);
  CHECK(epoch(loader) == std::vector<std::vector<std::size_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}});

  DataLoader dropping(numbered(10), {.batch_size = 4, .drop_last = true});
  CHECK(dropping.size() == 2);
  CHECK(epoch(dropping) == std::vector<std::vector<std::size_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}});

  DataLoader exact(numbered(8), {.batch_size = 4, .drop_last = true});
  CHECK(exact.size() == 2);
  DataLoader one(numbered(3), {.batch_size = 5});
  CHECK(epoch(one) == std::vector<std::vector<std::size_t>>{{0, 1, 2}});
}

TEST_CASE("DataLoader: shuffling visits every index once per epoch, a new order each epoch",
          "[data][loader]") {
  DataLoader loader(numbered(23), {.batch_size = 5, .shuffle = true, .seed = 7});
  std::vector<std::size_t> previous;
  for (int e = 0; e < 3; ++e) {
    const auto batches = epoch(loader);
    REQUIRE(batches.size() == 5);
    CHECK(batches.back().size() == 3);
    std::vector<std::size_t> seen;
    for (const auto& b : batches) seen.insert(seen.end(), b.begin(), b.end());
    CHECK(seen == loader.order());
    CHECK(seen != previous);
    previous = seen;
    std::sort(seen.begin(), seen.end());
    std::vector<std::size_t> all(23);
    std::iota(all.begin(), all.end(), std::size_t{0});
    CHECK(seen == all);
  }
}

TEST_CASE("DataLoader: the permutation is Fisher-Yates on Generator(seed).below", "[data][loader]") {
  DataLoader loader(numbered(9), {.batch_size = 9, .shuffle = true, .seed = 42});
  Generator gen(42);
  for (int e = 0; e < 2; ++e) {
    std::vector<std::size_t> expected(9);
    std::iota(expected.begin(), expected.end(), std::size_t{0});
    for (std::size_t i = 8; i > 0; --i) std::swap(expected[i], expected[gen.below(i + 1)]);
    CHECK(epoch(loader) == std::vector<std::vector<std::size_t>>{expected});
  }
}

TEST_CASE("DataLoader: same seed, same batches bit for bit, another seed, another order", "[data][loader]") {
  Generator gen(3);
  TensorDataset data(randn({50, 3, 4, 4}, gen), Labels(50, 1));
  auto run = [&](std::uint64_t seed) {
    DataLoader loader(data, {.batch_size = 16, .shuffle = true, .seed = seed});
    std::vector<float> all;
    for (int e = 0; e < 2; ++e)
      for (const auto& batch : loader) {
        const auto v = batch.inputs.to_vector();
        all.insert(all.end(), v.begin(), v.end());
      }
    return all;
  };
  const auto a = run(5), b = run(5), c = run(6);
  REQUIRE(a.size() == 2 * 50 * 48);
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  CHECK(a != c);
}

TEST_CASE("DataLoader: a byte-stored set gives the same batches as its float twin", "[data][loader]") {
  std::vector<std::uint8_t> bytes(37 * 2 * 5);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>((i * 37) % 256);
  Labels labels(37);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int32_t>(i % 7);
  const TensorDataset stored({37, 2, 5}, bytes, labels);
  const TensorDataset floats(stored.inputs(), labels);
  DataLoader a(stored, {.batch_size = 8, .shuffle = true, .seed = 9});
  DataLoader b(floats, {.batch_size = 8, .shuffle = true, .seed = 9});
  std::size_t batches = 0;
  for (int e = 0; e < 2; ++e) {
    auto ib = b.begin();
    for (const auto& batch : a) {
      REQUIRE(batch.inputs.shape() == ib->inputs.shape());
      CHECK(batch.inputs.to_vector() == ib->inputs.to_vector());
      CHECK(batch.labels == ib->labels);
      ++ib;
      ++batches;
    }
  }
  CHECK(batches == 2 * 5);
}

TEST_CASE("DataLoader: reuses its batch buffer, never one still held elsewhere", "[data][loader]") {
  DataLoader loader(numbered(12), {.batch_size = 4});
  auto it = loader.begin();
  const float* first = it->inputs.data();
  ++it;
  CHECK(it->inputs.data() == first);  // nobody held batch 0: same buffer

  Tensor kept = it->inputs;  // hold batch 1 (rows 4..7), as a graph would
  const auto kept_values = kept.to_vector();
  ++it;
  CHECK(it->inputs.data() != kept.data());
  CHECK(kept.to_vector() == kept_values);
  CHECK(it->inputs.at({0, 0}) == 8.0f);
  ++it;
  CHECK(it == loader.end());
  CHECK_THROWS_WITH(++it, "DataLoader: iterator advanced past the end");
}

TEST_CASE("DataLoader: bad options are Errors", "[data][loader][errors]") {
  CHECK_THROWS_WITH(DataLoader(numbered(4), {.batch_size = 0}), "DataLoader: batch_size must be positive");
  CHECK_THROWS_WITH(DataLoader(TensorDataset(), {}), "DataLoader: the dataset is empty");
  CHECK_THROWS_WITH(DataLoader(numbered(4), {.batch_size = 5, .drop_last = true}),
                    "DataLoader: batch_size 5 with drop_last leaves no batch from 4 samples");
}
