// The allocator behind the graph's small objects: tensor handles (TensorImpl), their Storage headers, graph
// nodes and the backward closures. A training step creates and drops a few hundred of these; the pool keeps
// freed blocks by size class and hands them back, so that a steady-state step calls operator new zero
// times (the benchmark reports new/step; tests/test_allocation.cpp asserts it). Tensor data does not come
// from here: it comes from the storage pool (storage_pool.hpp).
// Blocks up to kSmallObjectMax bytes are pooled; larger ones go straight to operator new. A miss also goes
// to operator new, so a counter of operator new sees every block the pool could not serve.
#pragma once
#include <cstddef>
#include <cstdint>

namespace xgrad {

struct SmallObjectPoolStats {
  std::int64_t hits = 0;        // requests served from a free list
  std::int64_t misses = 0;      // requests that went to operator new (pooled sizes only)
  std::int64_t bytes_held = 0;  // freed bytes kept for reuse
};
SmallObjectPoolStats small_object_pool_stats();

namespace detail {

constexpr std::size_t kSmallObjectMax = 1024;

// Blocks are aligned as operator new's (alignof(std::max_align_t)).
void* small_allocate(std::size_t bytes);
void small_deallocate(void* p, std::size_t bytes) noexcept;

}  // namespace detail

// A standard allocator on the pool, for std::allocate_shared (the object and its control block in one
// pooled block).
template <class T>
struct SmallObjectAllocator {
  static_assert(alignof(T) <= alignof(std::max_align_t), "SmallObjectAllocator: over-aligned type");
  using value_type = T;
  SmallObjectAllocator() noexcept = default;
  template <class U>
  SmallObjectAllocator(const SmallObjectAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit
  T* allocate(std::size_t n) { return static_cast<T*>(detail::small_allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { detail::small_deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const SmallObjectAllocator<U>&) const noexcept { return true; }
};

}  // namespace xgrad
