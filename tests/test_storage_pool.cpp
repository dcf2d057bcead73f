// The storage pool (core/storage_pool): a freed block goes back to the next request of its size, and the
// pool's bound lets go of the sizes no longer asked for, never of the ones a training step keeps asking for.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>

#include "xgrad/core/storage_pool.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

TEST_CASE("the storage pool hands a freed block back to the next request of its size", "[storage_pool]") {
  const StoragePoolStats before = storage_pool_stats();
  const void* first = nullptr;
  {
    Tensor t = empty({3, 1000, 7});  // 84 kB: pooled
    first = t.data();
    CHECK(reinterpret_cast<std::uintptr_t>(first) % 64 == 0);
  }
  const StoragePoolStats freed = storage_pool_stats();
  CHECK(freed.bytes_held >= before.bytes_held + 84000);
  Tensor again = empty({21000});  // the same byte size, another shape
  CHECK(again.data() == first);
  CHECK(storage_pool_stats().hits == freed.hits + 1);
  storage_pool_release();
  CHECK(storage_pool_stats().bytes_held == 0);
}

// A training step that frees a block before asking for a larger one, after an evaluation left blocks of
// sizes nobody asks for again: the pool must let those go, not the step's own (largest-first eviction
// evicted the step's 8 MB block for its 16 MB one and the 16 MB block for the 8 MB one, a miss and fresh
// pages every step, for good).
TEST_CASE("the storage pool lets go of the sizes no longer asked for, not the training step's", "[storage_pool]") {
  constexpr std::size_t kMB = (1 << 20) / sizeof(float);
  const auto step = [&] {
    { Tensor a = empty({8 * kMB}); }  // freed before the next is asked for: 16 MB in use at most
    { Tensor c = empty({16 * kMB}); }
  };
  step();
  for (std::size_t k = 0; k < 12; ++k) Tensor dead = empty({4 * kMB + 16 * (k + 1)});  // 12 sizes, 48 MB
  step();
  step();  // the dead sizes are gone by now
  const std::int64_t misses = storage_pool_stats().misses;
  for (int i = 0; i < 5; ++i) step();
  CHECK(storage_pool_stats().misses == misses);
  storage_pool_release();
}

// A step whose blocks of two sizes are never in use together: the pool holds both, twice the step's peak.
// (A bound of the peak plus 32 MB evicted each for the other: two misses and fresh pages every step, as
// ResNet-9's training step had.)
TEST_CASE("the storage pool keeps every size a step asks for, even when they are not in use together",
          "[storage_pool]") {
  storage_pool_release();
  constexpr std::size_t kMB = (1 << 20) / sizeof(float);
  // Larger than anything earlier cases had in use, so that this step sets the pool's high-water mark.
  const auto peak = std::size_t(storage_pool_stats().peak_bytes_in_use) / sizeof(float);
  const std::size_t floats = std::max(40 * kMB, peak + kMB);
  const auto step = [&] {
    { Tensor a = empty({floats}); }
    { Tensor b = empty({floats + 16}); }
  };
  step();
  const std::int64_t misses = storage_pool_stats().misses;
  for (int i = 0; i < 5; ++i) step();
  CHECK(storage_pool_stats().misses == misses);
  storage_pool_release();
}
