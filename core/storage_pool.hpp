// The allocator behind every tensor's storage: a cache of freed blocks keyed by size, so that a training
// step, which frees and then asks again for the same sizes, gets warm memory back instead of fresh pages
// from the kernel (a page fault costs microseconds on a VM, and a batch of activations is thousands of
// pages). Blocks are 64-byte aligned for the vector kernels. Internal to the library: not a public header.
#pragma once
#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

namespace xgrad {

struct StoragePoolStats {
  std::int64_t hits = 0;        // requests served from the cache
  std::int64_t misses = 0;      // requests that went to the system allocator
  std::int64_t bytes_held = 0;  // freed bytes kept for reuse
  std::int64_t bytes_in_use = 0;  // bytes handed out and not yet freed
  std::int64_t peak_bytes_in_use = 0;  // the high-water mark of bytes_in_use
};
StoragePoolStats storage_pool_stats();
// Returns every cached block to the system (the blocks in use stay valid).
void storage_pool_release();

namespace detail {
void* pool_allocate(std::size_t bytes);
void pool_deallocate(void* p, std::size_t bytes) noexcept;
}  // namespace detail

// A standard allocator on the pool, for Storage (tensor_impl.hpp).
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(detail::pool_allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { detail::pool_deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept { return true; }
};

// A scratch buffer of an op or kernel (per-row sums in double, saved indices) from the pool, like a tensor's.
template <class T>
using PoolVector = std::vector<T, PoolAllocator<T>>;

}  // namespace xgrad
