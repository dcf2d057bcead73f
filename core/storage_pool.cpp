// The storage pool: see storage_pool.hpp. Blocks of a megabyte and more are mapped directly, smaller ones
// come from aligned_alloc. Every block is cached by exact size on free and handed back on the next request
// of that size, which is every request of a training step after the first. Small blocks too (a BN layer's
// statistics, a bias's gradient, a loss): glibc would serve them without touching new pages, but caching
// them means a steady-state step calls no allocator at all (tests/test_allocation.cpp).
//
// The cache is bounded: on a miss, if the pool's memory (held + in use) would pass twice the high-water
// mark of the memory in use plus kMargin, cached blocks of other sizes go back to the system first. Twice,
// because a cache by exact size holds one block of every size the step asks for, and those are not all
// in use at the same moment: ResNet-9's training step holds 1.4 times its peak in use (batch 16 to 512),
// the MNIST network's at batch 512 1.36 times. A bound of the peak plus 32 MB, as this was, evicted blocks
// that the same step asked for again: 40,000 page faults a step at batch 64, half the speed.
// The sizes let go are those asked for least recently: the ones that stopped being asked for (evaluation
// at another batch size, the smaller last batch of an epoch) go before any size the training step still
// uses. (Largest-first, as this was, let the last batch's sizes, smaller than a full batch's, stay cached
// for good while every later step evicted and faulted in its own blocks again: Fashion-MNIST's second
// epoch at batch 128 ran at a quarter of the first's speed, 1.7 million page faults.)
#include "xgrad/core/storage_pool.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace xgrad {
namespace {

constexpr std::size_t kAlign = 64;
constexpr std::int64_t kMargin = std::int64_t(32) << 20;

std::size_t rounded(std::size_t bytes) { return (std::max<std::size_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign; }

// Blocks of a megabyte and more are mapped from the kernel directly, so that a block the pool lets go
// of leaves the process (glibc would keep one that came from its heap, and the pool's limit on what it
// holds would not bound the resident memory).
constexpr std::size_t kMappedFrom = std::size_t(1) << 20;
std::size_t page_rounded(std::size_t bytes) { return (bytes + 4095) / 4096 * 4096; }

void* system_allocate(std::size_t bytes) {
  if (bytes >= kMappedFrom) {
    void* p = mmap(nullptr, page_rounded(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
  }
  void* p = std::aligned_alloc(kAlign, rounded(bytes));
  if (!p) throw std::bad_alloc();
  return p;
}

void system_free(void* p, std::size_t bytes) noexcept {
  if (bytes >= kMappedFrom) {
    munmap(p, page_rounded(bytes));
  } else {
    std::free(p);
  }
}

// The cached blocks of one size, and when that size was last asked for or given back.
struct Bucket {
  std::vector<void*> blocks;
  std::uint64_t last_use = 0;
};

struct Pool {
  std::mutex mutex;
  std::map<std::size_t, Bucket> free_blocks;  // by rounded size
  std::uint64_t clock = 0;                    // counts requests and frees: the buckets' last_use
  StoragePoolStats stats;

  // Frees cached blocks, the least recently used sizes first, until `bytes` have gone (or the cache is
  // empty). A scan of the sizes per bucket let go: a training program asks for a few dozen sizes.
  void release(std::size_t bytes) {
    std::size_t freed = 0;
    while (freed < bytes && !free_blocks.empty()) {
      auto oldest = free_blocks.begin();
      for (auto it = free_blocks.begin(); it != free_blocks.end(); ++it) {
        if (it->second.last_use < oldest->second.last_use) oldest = it;
      }
      std::vector<void*>& blocks = oldest->second.blocks;
      while (freed < bytes && !blocks.empty()) {
        system_free(blocks.back(), oldest->first);
        blocks.pop_back();
        freed += oldest->first;
        stats.bytes_held -= std::int64_t(oldest->first);
      }
      if (blocks.empty()) free_blocks.erase(oldest);
    }
  }
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: tensors in static objects may outlive any exit order
  return *p;
}

}  // namespace

namespace detail {

void* pool_allocate(std::size_t bytes) {
  const std::size_t size = rounded(bytes);
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.stats.bytes_in_use += std::int64_t(size);
    auto it = p.free_blocks.find(size);
    if (it != p.free_blocks.end()) it->second.last_use = ++p.clock;
    if (it != p.free_blocks.end() && !it->second.blocks.empty()) {
      void* block = it->second.blocks.back();
      it->second.blocks.pop_back();
      p.stats.bytes_held -= std::int64_t(size);
      ++p.stats.hits;
      return block;
    }
    ++p.stats.misses;
    p.stats.peak_bytes_in_use = std::max(p.stats.peak_bytes_in_use, p.stats.bytes_in_use);
    // Keep the pool (held + in use) within twice the high-water mark of the memory in use plus a margin:
    // a miss past it returns idle blocks of other sizes first.
    const std::int64_t bound = 2 * p.stats.peak_bytes_in_use + kMargin;
    const std::int64_t excess = p.stats.bytes_held + p.stats.bytes_in_use - bound;
    if (excess > 0) p.release(std::size_t(excess));
  }
  try {
    return system_allocate(size);
  } catch (...) {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.stats.bytes_in_use -= std::int64_t(size);
    throw;
  }
}

void pool_deallocate(void* block, std::size_t bytes) noexcept {
  if (!block) return;
  const std::size_t size = rounded(bytes);
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  p.stats.bytes_in_use -= std::int64_t(size);
  try {
    Bucket& bucket = p.free_blocks[size];
    bucket.blocks.push_back(block);
    bucket.last_use = ++p.clock;
    p.stats.bytes_held += std::int64_t(size);
  } catch (...) {
    system_free(block, size);  // no room to remember it: give it back
  }
}

}  // namespace detail

StoragePoolStats storage_pool_stats() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.stats;
}

void storage_pool_release() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  p.release(std::size_t(p.stats.bytes_held));
}

}  // namespace xgrad
