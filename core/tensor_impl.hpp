// What a Tensor points to: storage, shape and the autograd fields. Private to the library's .cpp files:
// including it pulls in xtensor, which the public headers avoid.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <xtensor/xstorage.hpp>

#include "core/tensor.hpp"

namespace xgrad {

// Flat float32 buffer; reshape and detach share it between tensors.
using Storage = xt::uvector<float>;

// One recorded op: its inputs and the closure that maps the output's gradient to theirs.
struct Node {
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
