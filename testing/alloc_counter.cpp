// Replaces the global operator new of the program it is compiled into, to count calls and bytes: the
// benchmarks report `new` per step with it and tests/test_allocation.cpp asserts that a steady-state step
// makes none. Counting costs two relaxed atomic adds per call; every thread's calls count.
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "testing/alloc_counter.hpp"

namespace {
std::atomic<std::int64_t> calls{0}, bytes{0};

void* counted(std::size_t size, std::size_t align) {
  calls.fetch_add(1, std::memory_order_relaxed);
  bytes.fetch_add(std::int64_t(size), std::memory_order_relaxed);
  if (size == 0) size = 1;
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (size + align - 1) / align * align)
                                              : std::malloc(size);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t size) { return counted(size, 0); }
void* operator new[](std::size_t size) { return counted(size, 0); }
void* operator new(std::size_t size, std::align_val_t a) { return counted(size, std::size_t(a)); }
void* operator new[](std::size_t size, std::align_val_t a) { return counted(size, std::size_t(a)); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted(size, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted(size, 0);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace xgrad::testing {
std::int64_t new_calls() { return calls.load(std::memory_order_relaxed); }
std::int64_t new_bytes() { return bytes.load(std::memory_order_relaxed); }
}  // namespace xgrad::testing
