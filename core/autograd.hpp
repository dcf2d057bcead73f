// The reverse-mode engine's public face: the no-grad scope, and record() which ops use to attach their
// backward closure to an output. The engine itself (topological sort, accumulation, release of the
// graph, undoing of broadcasting) lives in autograd.cpp.
#pragma once
#include <span>
#include <vector>

#include "xgrad/core/backward_fn.hpp"
#include "xgrad/core/tensor.hpp"

namespace xgrad {

bool grad_enabled();

// While one lives, ops record nothing (like torch::NoGradGuard).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True when grad mode is on and some input requires grad: only then is a closure worth building.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(std::span<const Tensor> inputs);

// Attaches `backward` to `output` if needs_grad(inputs); returns output. Closures must not capture
// `output` itself (that would be a cycle): capture output.detach(), which shares the storage.
// `saved` lists the tensors the closure will read (inputs or the output), and only those: given which
// inputs require grad, mul(a, w) with a constant a reads a alone. Their versions are noted now, and
// backward() throws if one was modified in place in between (PyTorch's saved-tensor check); a tensor not
// saved may be modified freely. Undefined entries are skipped.
// Inputs and saved tensors are TensorLists (a braced list or a std::vector converts): no heap below five.
Tensor record(Tensor output, const char* op, TensorList inputs, BackwardFn backward, const TensorList& saved = {});

// torch.autograd.grad: the gradients of sum_k <outputs[k], grad_outputs[k]> with respect to `inputs`
// (leaves or not), returned rather than accumulated into any .grad. grad_outputs may be empty when every
// output has one element (ones are used). An input the outputs do not depend on throws unless
// allow_unused, which gives an undefined Tensor for it. Like backward(), this frees the graph.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool allow_unused = false);

// Sums `grad` over broadcast axes so it has `shape` (the inverse of NumPy broadcasting).
Tensor sum_to_shape(const Tensor& grad, const Shape& shape);

}  // namespace xgrad
