// The reverse-mode engine: records ops, sorts the graph without recursion, runs the closures in reverse
// topological order, accumulates gradients, undoes broadcasting, and frees the graph afterwards.
#include "xgrad/core/autograd.hpp"

#include <algorithm>
#include <atomic>
#include <span>

#include "xgrad/core/error.hpp"
#include "xgrad/core/kernels/add.hpp"
#include "xgrad/core/kernels/reduce_layout.hpp"
#include "xgrad/core/tensor_impl.hpp"

namespace xgrad {
namespace {

thread_local bool grad_mode = true;
std::atomic<std::uint64_t> next_mark{1};

// The tensor that receives input i's gradient: the input itself, unless an in-place op has since given
// it a new grad_fn, in which case the copy that took over the grad_fn this op saw. Null when the input
// did not require grad when the op ran.
std::shared_ptr<TensorImpl> edge_target(const Node& node, std::size_t i) {
  const Edge& edge = node.edges[i];
  const std::shared_ptr<TensorImpl>& impl = node.inputs[i].impl_ptr();
  if (!edge.requires_grad || !impl) return nullptr;
  if (impl->grad_fn == edge.fn) return impl;
  std::shared_ptr<TensorImpl> earlier = edge.fn ? edge.fn->output.lock() : nullptr;
  XGRAD_CHECK(earlier, "backward: the graph through '", edge.fn ? edge.fn->op : "a leaf", "' (an input of '",
              node.op, "' modified in place since) was already freed by an earlier backward()");
  return earlier;
}

// The engine's working lists. Each thread keeps one set between calls, so that a steady-state backward()
// reuses their capacity instead of allocating them again; a backward() started while one runs on the same
// thread (from inside a closure) gets lists of its own. Lists grown past kScratchKept entries (a graph of
// a million ops) are let go rather than held for the thread's lifetime.
struct Scratch {
  std::vector<std::shared_ptr<TensorImpl>> order;
  std::vector<std::pair<std::shared_ptr<TensorImpl>, std::size_t>> stack;
  bool busy = false;
};
constexpr std::size_t kScratchKept = std::size_t(1) << 16;

class ScratchLease {
 public:
  ScratchLease() : scratch_(cached().busy ? own_ : cached()) { scratch_.busy = true; }
  ~ScratchLease() {
    scratch_.order.clear();  // releases the graph's tensors: the lists keep their capacity only
    scratch_.stack.clear();
    if (scratch_.order.capacity() > kScratchKept) scratch_.order.shrink_to_fit();
    if (scratch_.stack.capacity() > kScratchKept) scratch_.stack.shrink_to_fit();
    scratch_.busy = false;
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  Scratch& operator*() { return scratch_; }

 private:
  static Scratch& cached() {
    thread_local Scratch scratch;
    return scratch;
  }
  Scratch own_;
  Scratch& scratch_;
};

// Depth-first post-order with an explicit stack (no recursion limit on deep graphs). Children are
// visited in recorded order, so the order, and with it every floating-point sum, is reproducible.
// The order holds owning pointers: freeing a node's inputs must not free a tensor still to be visited.
void topological_order(std::span<const std::shared_ptr<TensorImpl>> roots, Scratch& scratch) {
  const std::uint64_t mark = next_mark.fetch_add(1);
  std::vector<std::shared_ptr<TensorImpl>>& order = scratch.order;
  auto& stack = scratch.stack;
  // One post-order over every root's graph, reversed at the end, is a topological order of their union.
  for (const std::shared_ptr<TensorImpl>& root : roots) {
    if (root->visit_mark == mark) continue;
    stack.emplace_back(root, 0);
    root->visit_mark = mark;
    while (!stack.empty()) {
      auto& [impl, next_child] = stack.back();
      const Node* node = impl->grad_fn.get();
      if (node && next_child < node->inputs.size()) {
        std::shared_ptr<TensorImpl> child = edge_target(*node, next_child++);
        if (child && child->requires_grad && child->visit_mark != mark) {
          child->visit_mark = mark;
          stack.emplace_back(std::move(child), 0);
        }
        continue;
      }
      order.push_back(std::move(impl));
      stack.pop_back();
    }
  }
  std::reverse(order.begin(), order.end());
}

// grad(outputs, inputs): where the gradients of the requested tensors go instead of their .grad.
struct Capture {
  std::vector<const TensorImpl*> targets;
  std::vector<Tensor> results;
  // The position of impl among the targets, or -1.
  std::ptrdiff_t find(const TensorImpl* impl) const {
    auto it = std::find(targets.begin(), targets.end(), impl);
    return it == targets.end() ? -1 : it - targets.begin();
  }
  void add(std::size_t k, const Tensor& g) {
    if (!results[k].defined()) {
      results[k] = g;
    } else {
      Tensor sum = results[k].clone();
      for (std::size_t i = 0; i < sum.numel(); ++i) sum.data()[i] += g.data()[i];
      results[k] = sum;
    }
  }
};

void accumulate(TensorImpl* impl, Tensor g, Capture* capture) {
  if (capture && !impl->grad_fn) {  // grad(): leaves' .grad stay untouched
    const std::ptrdiff_t k = capture->find(impl);
    if (k >= 0) capture->add(static_cast<std::size_t>(k), g);
    return;
  }
  if (!impl->grad.defined()) {
    // A leaf's gradient outlives the backward and is added to in place later: it must own its storage.
    impl->grad = impl->grad_fn ? g : g.clone();
  } else if (impl->grad_fn) {
    // An intermediate's gradient may alias another tensor: add out of place.
    Tensor sum = empty(impl->grad.shape());
    kernels::add(sum.data(), impl->grad.data(), g.data(), sum.numel());
    impl->grad = sum;
  } else {
    kernels::add(impl->grad.data(), impl->grad.data(), g.data(), g.numel());
  }
}

void backward_in_order(const std::vector<std::shared_ptr<TensorImpl>>& order, Capture* capture);

void run_backward(std::span<const std::shared_ptr<TensorImpl>> roots, std::span<const Tensor> upstreams,
                  Capture* capture) {
  NoGradGuard no_grad;
  ScratchLease scratch;
  topological_order(roots, *scratch);
  const std::vector<std::shared_ptr<TensorImpl>>& order = (*scratch).order;
  for (std::size_t k = 0; k < roots.size(); ++k) accumulate(roots[k].get(), upstreams[k], capture);
  try {
    backward_in_order(order, capture);
  } catch (...) {
    // Leave no partial gradient on an intermediate for a later backward to add in.
    for (const auto& impl : order) {
      if (impl->grad_fn) impl->grad = Tensor();
    }
    throw;
  }
}

// The saved-tensor check: a tensor the closure reads must be as it was when the op ran.
void check_saved(const Node& node) {
  for (std::size_t i = 0; i < node.saved.size(); ++i) {
    const std::uint32_t now = node.saved[i].storage->version.load(std::memory_order_relaxed);
    XGRAD_CHECK(now == node.saved[i].version, "backward: a tensor that '", node.op, "' saved for its gradient "
                "(saved tensor ", i, ") was modified in place after the forward (version ", node.saved[i].version,
                " when saved, ", now, " now): modify a clone(), or modify it before the forward");
  }
}

void backward_in_order(const std::vector<std::shared_ptr<TensorImpl>>& order, Capture* capture) {
  for (const std::shared_ptr<TensorImpl>& impl : order) {
    const std::shared_ptr<Node> node = impl->grad_fn;
    if (!node) continue;  // a leaf: its gradient stays
    Tensor grad_output = impl->grad;
    impl->grad = Tensor();  // intermediates keep no gradient, like PyTorch's non-leaf tensors
    XGRAD_CHECK(node->backward, "backward: the graph through '", node->op,
                "' was already freed by an earlier backward()");
    if (!grad_output.defined()) continue;
    if (capture) {
      const std::ptrdiff_t k = capture->find(impl.get());
      if (k >= 0) capture->add(static_cast<std::size_t>(k), grad_output);
    } else if (impl->retains_grad) {  // retain_grad(): kept, and summed over backward() calls like a leaf's
      if (!impl->retained_grad.defined()) {
        impl->retained_grad = grad_output.clone();
      } else {
        float* dst = impl->retained_grad.data();
        const float* src = grad_output.data();
        for (std::size_t i = 0, n = grad_output.numel(); i < n; ++i) dst[i] += src[i];
      }
    }
    check_saved(*node);
    TensorList grads = node->backward(grad_output);
    XGRAD_CHECK(grads.size() == node->inputs.size(), "backward: '", node->op, "' returned ", grads.size(),
                " gradients for ", node->inputs.size(), " inputs");
    for (std::size_t i = 0; i < grads.size(); ++i) {
      if (!grads[i].defined()) continue;
      const std::shared_ptr<TensorImpl> input = edge_target(*node, i);
      if (!input || !input->requires_grad) continue;
      Tensor g = grads[i].shape() == input->shape ? grads[i] : sum_to_shape(grads[i], input->shape);
      accumulate(input.get(), g, capture);
    }
    // Free the graph: the closure's captures and the references to the inputs.
    node->backward = nullptr;
    node->inputs.clear();
    node->edges.clear();
  }
}

}  // namespace

Node::~Node() {
  std::vector<std::shared_ptr<Node>> pending;
  // Drops a node's closure and inputs, taking over the grad_fn of every input this node alone keeps alive,
  // so that input's destruction does not recurse into its own node.
  // The edges' references to the same nodes go to `pending` too: a node is released when its last
  // reference there is popped.
  auto release = [&pending](Node& node) {
    node.backward = nullptr;
    TensorList inputs = std::move(node.inputs);
    SmallVector<Edge, 4> edges = std::move(node.edges);
    node.inputs.clear();
    node.edges.clear();
    for (Tensor& input : inputs) {
      TensorImpl* impl = input.impl();
      if (impl && impl->grad_fn && input.impl_ptr().use_count() == 1) pending.push_back(std::move(impl->grad_fn));
      input = Tensor();  // a repeated input (x * x) is alone by its second occurrence
    }
    for (Edge& edge : edges) {
      if (edge.fn) pending.push_back(std::move(edge.fn));
    }
  };
  release(*this);
  while (!pending.empty()) {
    std::shared_ptr<Node> node = std::move(pending.back());
    pending.pop_back();
    if (node.use_count() == 1) release(*node);
  }
}

bool grad_enabled() { return grad_mode; }

NoGradGuard::NoGradGuard() : previous_(grad_mode) { grad_mode = false; }
NoGradGuard::~NoGradGuard() { grad_mode = previous_; }

bool needs_grad(std::initializer_list<Tensor> inputs) {
  if (!grad_mode) return false;
  return std::any_of(inputs.begin(), inputs.end(), [](const Tensor& t) { return t.requires_grad(); });
}

bool needs_grad(std::span<const Tensor> inputs) {
  if (!grad_mode) return false;
  return std::any_of(inputs.begin(), inputs.end(), [](const Tensor& t) { return t.requires_grad(); });
}

Tensor record(Tensor output, const char* op, TensorList inputs, BackwardFn backward, const TensorList& saved) {
  if (!needs_grad(inputs)) return output;
  auto node = new_node();
  node->op = op;
  node->inputs = std::move(inputs);
  node->edges.reserve(node->inputs.size());
  for (const Tensor& t : node->inputs) {
    node->edges.push_back({t.defined() ? t.impl()->grad_fn : nullptr, t.requires_grad()});
  }
  node->output = output.impl_ptr();
  node->backward = std::move(backward);
  for (const Tensor& t : saved) {
    if (t.defined()) node->saved.push_back({t.impl()->storage, t.impl()->storage->version.load()});
  }
  output.impl()->grad_fn = std::move(node);
  output.impl()->requires_grad = true;
  return output;
}

Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
  const Shape& from = grad.shape();
  XGRAD_CHECK(from.size() >= shape.size(), "backward: a gradient of shape ", shape_str(from),
              " cannot be summed to shape ", shape_str(shape));
  const std::size_t lead = from.size() - shape.size();
  Axes axes;
  for (std::size_t i = 0; i < from.size(); ++i) {
    if (i < lead) {
      axes.push_back(i);
    } else if (shape[i - lead] != from[i]) {
      XGRAD_CHECK(shape[i - lead] == 1, "backward: a gradient of shape ", shape_str(from),
                  " cannot be summed to shape ", shape_str(shape));
      axes.push_back(i);
    }
  }
  Tensor out = empty(shape);
  kernels::reduce_sum(out.data(), grad.data(), kernels::make_reduce_layout(from, axes));
  return out;
}

void Tensor::backward() const {
  XGRAD_CHECK(defined() && numel() == 1, "backward: without an upstream gradient the tensor must have one "
              "element, not shape ", defined() ? shape_str(shape()) : "undefined");
  backward(full(shape(), 1.0f));
}

void Tensor::backward(const Tensor& upstream) const {
  XGRAD_CHECK(defined(), "backward: the tensor is undefined");
  XGRAD_CHECK(requires_grad(), "backward: the tensor does not require grad (no input of the graph that "
              "produced it requires grad)");
  XGRAD_CHECK(upstream.defined() && upstream.shape() == shape(), "backward: upstream gradient of shape ",
              upstream.defined() ? shape_str(upstream.shape()) : "undefined", " for a tensor of shape ",
              shape_str(shape()));
  const std::shared_ptr<TensorImpl> roots[] = {impl_ptr()};
  const Tensor upstreams[] = {upstream.detach()};
  run_backward(roots, upstreams, nullptr);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool allow_unused) {
  XGRAD_CHECK(!outputs.empty(), "grad: no outputs");
  XGRAD_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), "grad: ", grad_outputs.size(),
              " grad_outputs for ", outputs.size(), " outputs");
  std::vector<std::shared_ptr<TensorImpl>> roots;
  std::vector<Tensor> upstreams;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const Tensor& y = outputs[k];
    XGRAD_CHECK(y.defined() && y.requires_grad(), "grad: output ", k, " does not require grad");
    Tensor u;
    if (grad_outputs.empty()) {
      XGRAD_CHECK(y.numel() == 1, "grad: output ", k, " has shape ", shape_str(y.shape()),
                  ", so grad_outputs must be given");
      u = full(y.shape(), 1.0f);
    } else {
      u = grad_outputs[k];
      XGRAD_CHECK(u.defined() && u.shape() == y.shape(), "grad: grad_outputs[", k, "] of shape ",
                  u.defined() ? shape_str(u.shape()) : "undefined", " for output ", k, " of shape ",
                  shape_str(y.shape()));
    }
    roots.push_back(y.impl_ptr());
    upstreams.push_back(u.detach());
  }
  Capture capture;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    XGRAD_CHECK(inputs[k].defined() && inputs[k].requires_grad(), "grad: input ", k, " does not require grad");
    capture.targets.push_back(inputs[k].impl());
  }
  capture.results.resize(inputs.size());
  run_backward(roots, upstreams, &capture);
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    XGRAD_CHECK(allow_unused || capture.results[k].defined(), "grad: input ", k, " is not used by the outputs' "
                "graph (pass allow_unused = true to get an undefined gradient for it)");
    if (capture.results[k].defined()) capture.results[k] = capture.results[k].clone();
  }
  return capture.results;
}

}  // namespace xgrad
