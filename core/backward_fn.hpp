// BackwardFn: an op's backward closure, held by its graph node. A move-only std::function whose closure
// lives in the small-object pool: std::function keeps only closures of 16 bytes or less inline, and
// nearly every backward captures a tensor or two, so each op of a step cost one operator new.
// TensorList: an op's inputs, or the gradients its closure returns, four of them inline.
#pragma once
#include <concepts>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "xgrad/core/small_object_pool.hpp"
#include "xgrad/core/small_vector.hpp"
#include "xgrad/core/tensor.hpp"

namespace xgrad {

using TensorList = SmallVector<Tensor, 4>;

// Maps the gradient of an op's output to the gradients of its inputs, in the order the inputs were
// recorded. An undefined Tensor means "no gradient for this input". A gradient may have the output's
// broadcast shape: the engine sums it back to the input's shape, in one place. Any callable taking
// `const Tensor&` and returning a TensorList or a std::vector<Tensor> converts to one.
class BackwardFn {
 public:
  BackwardFn() noexcept = default;
  BackwardFn(std::nullptr_t) noexcept {}  // NOLINT: implicit, as std::function's
  template <class F>
    requires(!std::same_as<std::remove_cvref_t<F>, BackwardFn> && std::invocable<std::remove_cvref_t<F>&, const Tensor&>)
  BackwardFn(F&& f) {  // NOLINT: implicit, as std::function's
    using Fn = std::remove_cvref_t<F>;
    static_assert(alignof(Fn) <= alignof(std::max_align_t), "BackwardFn: over-aligned closure");
    void* block = detail::small_allocate(sizeof(Fn));
    try {
      fn_ = ::new (block) Fn(std::forward<F>(f));
    } catch (...) {
      detail::small_deallocate(block, sizeof(Fn));
      throw;
    }
    call_ = [](void* fn, const Tensor& g) { return TensorList((*static_cast<Fn*>(fn))(g)); };
    destroy_ = [](void* fn) noexcept {
      static_cast<Fn*>(fn)->~Fn();
      detail::small_deallocate(fn, sizeof(Fn));
    };
  }
  BackwardFn(BackwardFn&& other) noexcept
      : fn_(std::exchange(other.fn_, nullptr)), call_(other.call_), destroy_(other.destroy_) {}
  BackwardFn& operator=(BackwardFn&& other) noexcept {
    if (this != &other) {
      reset();
      fn_ = std::exchange(other.fn_, nullptr);
      call_ = other.call_;
      destroy_ = other.destroy_;
    }
    return *this;
  }
  BackwardFn& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  BackwardFn(const BackwardFn&) = delete;
  BackwardFn& operator=(const BackwardFn&) = delete;
  ~BackwardFn() { reset(); }

  explicit operator bool() const noexcept { return fn_ != nullptr; }
  TensorList operator()(const Tensor& grad_output) const { return call_(fn_, grad_output); }

 private:
  // Destroys the closure. The pointer is cleared first: the closure's captures may hold the last
  // reference to tensors whose release reaches back here.
  void reset() noexcept {
    if (void* fn = std::exchange(fn_, nullptr)) destroy_(fn);
  }

  void* fn_ = nullptr;
  TensorList (*call_)(void*, const Tensor&) = nullptr;
  void (*destroy_)(void*) noexcept = nullptr;
};

}  // namespace xgrad
