// The DataLoader's data-parallel sharding (num_replicas, rank): needs no MPI, since every rank computes its
// shard alone. R loaders at batch B, their batches laid end to end in rank order, must be exactly one
// loader's batches at R * B, epoch after epoch (reshuffled), including an unevenly split last batch.
#include <catch2/catch.hpp>
#include <vector>

#include "xgrad/data/data_loader.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

// Everything in a namespace of its own: the unit tests are compiled ten files to a translation unit.
namespace distributed_sampler_test {

// Sample i is the value i with label i % 7, so a batch tells which samples it holds.
TensorDataset numbered(std::size_t n) {
  std::vector<float> values;
  Labels labels;
  for (std::size_t i = 0; i < n; ++i) {
    values.push_back(static_cast<float>(i));
    labels.push_back(static_cast<std::int32_t>(i % 7));
  }
  return TensorDataset(from_vector(values, {n, 1}), labels);
}

// One epoch's batches as lists of sample indices (read back from the values).
std::vector<std::vector<std::size_t>> epoch(DataLoader& loader) {
  std::vector<std::vector<std::size_t>> batches;
  for (const Batch& b : loader) {
    std::vector<std::size_t> ids;
    for (std::size_t i = 0; i < b.labels.size(); ++i) {
      const auto id = static_cast<std::size_t>(b.inputs.data()[i]);
      REQUIRE(b.labels[i] == static_cast<std::int32_t>(id % 7));
      ids.push_back(id);
    }
    batches.push_back(ids);
  }
  return batches;
}


TEST_CASE("DataLoader sharding: R ranks at batch B are one loader at R * B, every epoch", "[data][loader][distributed]") {
  // 74 samples: at 2 x 8, 4 full global batches and 10 (5, 5); at 4 x 4, the same and 10 split 3, 3, 2, 2;
  // at 3 x 5, 4 full batches of 15 and 14 split 5, 5, 4.
  for (std::size_t R : {2, 3, 4}) {
    const std::size_t B = 16 / R;
    DataLoader whole(numbered(74), {.batch_size = B * R, .shuffle = true, .seed = 9});
    std::vector<DataLoader> ranks;
    for (std::size_t r = 0; r < R; ++r) {
      ranks.emplace_back(numbered(74), DataLoaderOptions{.batch_size = B, .shuffle = true, .seed = 9,
                                                         .num_replicas = R, .rank = r});
    }
    for (int e = 0; e < 3; ++e) {
      const auto want = epoch(whole);
      std::vector<std::vector<std::vector<std::size_t>>> got;
      for (auto& loader : ranks) {
        REQUIRE(loader.size() == whole.size());
        got.push_back(epoch(loader));
      }
      for (std::size_t k = 0; k < want.size(); ++k) {
        std::vector<std::size_t> joined;
        std::size_t smallest = B, largest = 0;
        for (std::size_t r = 0; r < R; ++r) {
          joined.insert(joined.end(), got[r][k].begin(), got[r][k].end());
          smallest = std::min(smallest, got[r][k].size());
          largest = std::max(largest, got[r][k].size());
        }
        INFO("R = " << R << ", epoch " << e << ", batch " << k);
        CHECK(joined == want[k]);
        CHECK(largest - smallest <= 1);  // split as evenly as possible
        CHECK(smallest > 0);
      }
    }
  }
}

TEST_CASE("DataLoader sharding: a last global batch smaller than the rank count is dropped", "[data][loader][distributed]") {
  // 33 samples, 4 ranks at 8: one batch of 32, then 1 sample for 4 ranks: dropped on every rank.
  for (std::size_t r = 0; r < 4; ++r) {
    DataLoader loader(numbered(33), {.batch_size = 8, .num_replicas = 4, .rank = r});
    CHECK(loader.size() == 1);
    const auto batches = epoch(loader);
    REQUIRE(batches.size() == 1);
    CHECK(batches[0].size() == 8);
    CHECK(batches[0].front() == 8 * r);
  }
  // With drop_last the short global batch goes even when every rank could have a sample.
  DataLoader dropped(numbered(74), {.batch_size = 4, .drop_last = true, .num_replicas = 4, .rank = 3});
  CHECK(dropped.size() == 4);
}

TEST_CASE("DataLoader sharding: bad rank or too few samples throw", "[data][loader][distributed][errors]") {
  CHECK_THROWS_WITH(DataLoader(numbered(8), {.batch_size = 2, .num_replicas = 2, .rank = 2}),
                    "DataLoader: rank 2 is not in [0, num_replicas = 2)");
  CHECK_THROWS_WITH(DataLoader(numbered(8), {.batch_size = 2, .num_replicas = 0}),
                    "DataLoader: rank 0 is not in [0, num_replicas = 0)");
  CHECK_THROWS_WITH(DataLoader(numbered(3), {.batch_size = 2, .num_replicas = 4}),
                    "DataLoader: 3 samples leave no batch on 4 replicas (each needs a sample)");
  CHECK_THROWS_WITH(DataLoader(numbered(7), {.batch_size = 2, .drop_last = true, .num_replicas = 4}),
                    "DataLoader: batch_size 2 with drop_last leaves no batch from 7 samples on the replicas");
}

}  // namespace distributed_sampler_test
