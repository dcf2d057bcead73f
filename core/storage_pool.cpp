// The storage pool: see storage_pool.hpp. Blocks under a page go straight to aligned_alloc (glibc serves
// those from its arenas without touching new pages); blocks of a megabyte and more are mapped directly.
// Pooled blocks are cached by exact size on free and handed back on the next request of that size, which
// is every request of a training step after the first. The cache is bounded: on a miss, if the pool's
// memory (held + in use) would pass the high-water mark of the memory in use plus kMargin, cached blocks
// of other sizes go back to the system first, largest first. So the pool adds at most kMargin to the
// program's own peak, and sizes that stop being asked for (evaluation at another batch size, the smaller
// last batch) are the ones let go.
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
constexpr std::size_t kPooledFrom = 4096;
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

struct Pool {
  std::mutex mutex;
  std::map<std::size_t, std::vector<void*>> free_blocks;  // by rounded size; ordered, so eviction is too
  StoragePoolStats stats;
  std::int64_t peak_in_use = 0;  // the high-water mark of bytes_in_use

  // Frees cached blocks, largest sizes first, until `bytes` have gone (or the cache is empty).
  void release(std::size_t bytes) {
    std::size_t freed = 0;
    while (freed < bytes && !free_blocks.empty()) {
      auto last = std::prev(free_blocks.end());
      std::vector<void*>& blocks = last->second;
      while (freed < bytes && !blocks.empty()) {
        system_free(blocks.back(), last->first);
        blocks.pop_back();
        freed += last->first;
        stats.bytes_held -= std::int64_t(last->first);
      }
      if (blocks.empty()) free_blocks.erase(last);
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
  if (bytes < kPooledFrom) return system_allocate(bytes);
  const std::size_t size = rounded(bytes);
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.stats.bytes_in_use += std::int64_t(size);
    auto it = p.free_blocks.find(size);
    if (it != p.free_blocks.end() && !it->second.empty()) {
      void* block = it->second.back();
      it->second.pop_back();
      p.stats.bytes_held -= std::int64_t(size);
      ++p.stats.hits;
      return block;
    }
    ++p.stats.misses;
    p.peak_in_use = std::max(p.peak_in_use, p.stats.bytes_in_use);
    // Keep the pool (held + in use) within the high-water mark of the memory in use plus a margin: a
    // miss past it returns idle blocks of other sizes first.
    const std::int64_t excess = p.stats.bytes_held + p.stats.bytes_in_use - (p.peak_in_use + kMargin);
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
  if (bytes < kPooledFrom) {
    std::free(block);
    return;
  }
  const std::size_t size = rounded(bytes);
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  p.stats.bytes_in_use -= std::int64_t(size);
  try {
    p.free_blocks[size].push_back(block);
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
