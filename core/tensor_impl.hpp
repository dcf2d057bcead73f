// What a Tensor points to: storage, shape and the autograd fields. Private to the library's .cpp files:
// including it pulls in xtensor, which the public headers avoid.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <xtensor/xstorage.hpp>

#include "xgrad/core/storage_pool.hpp"
#include "xgrad/core/tensor.hpp"

namespace xgrad {

// Flat float32 buffer, uninitialized, 64-byte aligned; reshape and detach share it between tensors. Its
// memory comes from the storage pool, so that a training step reuses the previous step's buffers.
using Storage = xt::uvector<float, PoolAllocator<float>>;

// One recorded op: its inputs and the closure that maps the output's gradient to theirs.
struct Node {
  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Frees the chain of nodes only this one keeps alive iteratively: dropping a graph of a million ops
  // without calling backward() must not overflow the stack (autograd.cpp).
  ~Node();

  const char* op = "";
  std::vector<Tensor> inputs;
  std::function<std::vector<Tensor>(const Tensor& grad_output)> backward;
};

struct TensorImpl {
  Shape shape;
  std::shared_ptr<Storage> storage;
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;  // null for leaves
  std::uint64_t visit_mark = 0;   // used by the engine's topological sort
};

}  // namespace xgrad
