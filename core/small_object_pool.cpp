// The small-object pool: see small_object_pool.hpp. One free list per 16-byte size class, threaded through
// the freed blocks themselves, behind one mutex: tensors are also made and dropped on the data loader's
// worker threads, and a step's few hundred lock/unlock pairs cost microseconds against its milliseconds.
// What the free lists hold is bounded (kSmallMaxHeld): dropping a graph of a million nodes keeps 16 MB for
// reuse and returns the rest.
#include "xgrad/core/small_object_pool.hpp"

#include <array>
#include <mutex>
#include <new>

namespace xgrad {
namespace {

constexpr std::size_t kSmallGranule = 16;
constexpr std::size_t kSmallClasses = detail::kSmallObjectMax / kSmallGranule;
constexpr std::int64_t kSmallMaxHeld = std::int64_t(16) << 20;
static_assert(kSmallGranule >= sizeof(void*) && kSmallGranule % alignof(std::max_align_t) == 0);

// A freed block holds the link to the next one of its class.
struct SmallFreeBlock {
  SmallFreeBlock* next;
};

struct SmallPool {
  std::mutex mutex;
  std::array<SmallFreeBlock*, kSmallClasses> free_lists{};
  SmallObjectPoolStats stats;
};

SmallPool& small_pool() {
  static SmallPool* p = new SmallPool;  // never destroyed: tensors in static objects may outlive any exit order
  return *p;
}

// Class k holds blocks of (k + 1) * kSmallGranule bytes.
std::size_t small_size_class(std::size_t bytes) { return (bytes == 0 ? 0 : (bytes - 1) / kSmallGranule); }

}  // namespace

namespace detail {

void* small_allocate(std::size_t bytes) {
  if (bytes > kSmallObjectMax) return ::operator new(bytes);
  const std::size_t k = small_size_class(bytes);
  SmallPool& p = small_pool();
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    if (SmallFreeBlock* block = p.free_lists[k]) {
      p.free_lists[k] = block->next;
      p.stats.bytes_held -= std::int64_t((k + 1) * kSmallGranule);
      ++p.stats.hits;
      return block;
    }
    ++p.stats.misses;
  }
  return ::operator new((k + 1) * kSmallGranule);
}

void small_deallocate(void* block, std::size_t bytes) noexcept {
  if (!block) return;
  if (bytes > kSmallObjectMax) {
    ::operator delete(block);
    return;
  }
  const std::size_t k = small_size_class(bytes);
  const std::int64_t size = std::int64_t((k + 1) * kSmallGranule);
  SmallPool& p = small_pool();
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    if (p.stats.bytes_held + size <= kSmallMaxHeld) {
      p.free_lists[k] = ::new (block) SmallFreeBlock{p.free_lists[k]};
      p.stats.bytes_held += size;
      return;
    }
  }
  ::operator delete(block);
}

}  // namespace detail

SmallObjectPoolStats small_object_pool_stats() {
  SmallPool& p = small_pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.stats;
}

}  // namespace xgrad
