// What a Tensor points to: storage, shape and the autograd fields. Private to the library's .cpp files:
// including it pulls in xtensor, which the public headers avoid.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <xtensor/xstorage.hpp>

#include "xgrad/core/backward_fn.hpp"
#include "xgrad/core/small_object_pool.hpp"
#include "xgrad/core/small_vector.hpp"
#include "xgrad/core/storage_pool.hpp"
#include "xgrad/core/tensor.hpp"

namespace xgrad {

// Flat float32 buffer, uninitialized, 64-byte aligned; reshape and detach share it between tensors. Its
// memory comes from the storage pool, so that a training step reuses the previous step's buffers.
// `version` counts modifications (PyTorch's version counter): relaxed load and store, not a locked
// increment, since it only has to move, and data() is called in loops. `attached` counts the live
// tensors that read it as part of the graph (the tensor that allocated it and its reshape views, not
// detach()es): an in-place op under grad mode refuses when another one could see the new values with
// its old history (inplace.cpp).
struct Storage : xt::uvector<float, PoolAllocator<float>> {
  using xt::uvector<float, PoolAllocator<float>>::uvector;
  std::atomic<std::uint32_t> version{0};
  std::atomic<std::uint32_t> attached{0};
  void bump() { version.store(version.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
};

// A tensor an op's backward reads, with the version it had when the op ran (checked by the engine before
// that backward runs, PyTorch's SavedVariable check). Ops save only what their backward will read, given
// which inputs require grad: mul by a scalar saves nothing, so its output may be modified in place.
struct SavedVersion {
  std::shared_ptr<Storage> storage;
  std::uint32_t version;
};

struct Node;

// What an input was when an op ran: its grad_fn then, and whether it required grad. An in-place op
// later gives the input's handle a new grad_fn (inplace.cpp); the gradient of this op must still reach
// the old one, as PyTorch's edges do, so the engine follows `fn` (through Node::output) rather than the
// input's current grad_fn.
struct Edge {
  std::shared_ptr<Node> fn;  // null for a leaf
  bool requires_grad = false;
};

// One recorded op: its inputs and the closure that maps the output's gradient to theirs.
struct Node {
  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Frees the chain of nodes only this one keeps alive iteratively: dropping a graph of a million ops
  // without calling backward() must not overflow the stack (autograd.cpp).
  ~Node();

  const char* op = "";
  TensorList inputs;
  SmallVector<Edge, 4> edges;         // one per input
  std::weak_ptr<TensorImpl> output;   // the tensor whose grad_fn this is (a copy, once rebased in place)
  BackwardFn backward;
  SmallVector<SavedVersion, 4> saved;  // checked before backward runs
};

struct TensorImpl {
  TensorImpl() = default;
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;
  ~TensorImpl() {
    if (attached) storage->attached.fetch_sub(1, std::memory_order_relaxed);
  }
  // Makes this tensor one of the storage's attached readers (see Storage::attached).
  void attach(std::shared_ptr<Storage> s) {
    storage = std::move(s);
    storage->attached.fetch_add(1, std::memory_order_relaxed);
    attached = true;
  }

  Shape shape;
  std::shared_ptr<Storage> storage;
  bool attached = false;
  bool requires_grad = false;
  Tensor grad;                    // a leaf's gradient, or a non-leaf's pending one during backward()
  Tensor retained_grad;           // a non-leaf's gradient kept by retain_grad()
  bool retains_grad = false;
  std::shared_ptr<Node> grad_fn;  // null for leaves
  std::uint64_t visit_mark = 0;   // used by the engine's topological sort
};

// The three objects behind a tensor and its graph, each with its shared_ptr's control block in one block of
// the small-object pool: a training step makes and drops hundreds of them.
inline std::shared_ptr<TensorImpl> new_tensor_impl() {
  return std::allocate_shared<TensorImpl>(SmallObjectAllocator<TensorImpl>());
}
inline std::shared_ptr<Storage> new_storage(std::size_t n) {
  return std::allocate_shared<Storage>(SmallObjectAllocator<Storage>(), n);
}
inline std::shared_ptr<Node> new_node() { return std::allocate_shared<Node>(SmallObjectAllocator<Node>()); }

}  // namespace xgrad
