// Tensor: storage, factories, element access and printing. Autograd entry points are in autograd.cpp.
#include "xgrad/core/tensor.hpp"

#include <cstdint>
#include <new>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>

#include "xgrad/core/error.hpp"
#include "xgrad/core/tensor_impl.hpp"

namespace xgrad {
namespace {

// Out of memory becomes an xgrad::Error naming the shape and the bytes asked for (a bare std::bad_alloc
// says neither); numel() has already refused a shape whose count overflows.
std::shared_ptr<TensorImpl> make_impl(const Shape& shape) {
  const std::size_t n = numel(shape);
  XGRAD_CHECK(n <= SIZE_MAX / sizeof(float), "Tensor: a tensor of shape ", shape_str(shape),
              " needs more bytes than memory can address");
  auto impl = new_tensor_impl();
  impl->shape = shape;
  try {
    impl->attach(new_storage(n));
  } catch (const std::exception&) {  // std::bad_alloc, or std::length_error from the vector
    detail::fail("Tensor: out of memory allocating ", n * sizeof(float), " bytes for a tensor of shape ",
                 shape_str(shape));
  }
  return impl;
}

template <class List>
void flatten_nested(const List& list, Shape& shape, std::size_t depth, std::vector<float>& out) {
  if (shape.size() <= depth) shape.push_back(list.size());
  XGRAD_CHECK(shape[depth] == list.size(), "Tensor: ragged initializer list (a row of ", list.size(),
              " where ", shape[depth], " was expected at depth ", depth, ")");
  for (const auto& item : list) {
    if constexpr (std::is_same_v<std::decay_t<decltype(item)>, float>) {
      out.push_back(item);
    } else {
      flatten_nested(item, shape, depth + 1, out);
    }
  }
}

template <class List>
std::shared_ptr<TensorImpl> from_nested(const List& list) {
  Shape shape;
  std::vector<float> values;
  flatten_nested(list, shape, 0, values);
  // An empty inner list leaves deeper dimensions unrecorded; the shape still has as many axes as seen.
  auto impl = make_impl(shape);
  XGRAD_CHECK(values.size() == numel(shape), "Tensor: ragged initializer list of shape ", shape_str(shape));
  std::copy(values.begin(), values.end(), impl->storage->begin());
  return impl;
}

void check_defined(const TensorImpl* impl, const char* what) {
  XGRAD_CHECK(impl != nullptr, "Tensor::", what, ": the tensor is undefined");
}

}  // namespace

Tensor::Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
Tensor::Tensor(std::initializer_list<float> v) : impl_(from_nested(v)) {}
Tensor::Tensor(std::initializer_list<std::initializer_list<float>> v) : impl_(from_nested(v)) {}
Tensor::Tensor(std::initializer_list<std::initializer_list<std::initializer_list<float>>> v)
    : impl_(from_nested(v)) {}
Tensor::Tensor(
    std::initializer_list<std::initializer_list<std::initializer_list<std::initializer_list<float>>>> v)
    : impl_(from_nested(v)) {}

const Shape& Tensor::shape() const {
  check_defined(impl_.get(), "shape");
  return impl_->shape;
}

std::size_t Tensor::numel() const { return xgrad::numel(shape()); }

std::size_t Tensor::size(int axis) const { return shape()[normalize_axis(axis, dim(), "Tensor::size")]; }

float* Tensor::data() {
  check_defined(impl_.get(), "data");
  impl_->storage->bump();
  return impl_->storage->data();
}

const float* Tensor::data() const {
  check_defined(impl_.get(), "data");
  return impl_->storage->data();
}

float Tensor::item() const {
  XGRAD_CHECK(numel() == 1, "Tensor::item: the tensor has shape ", shape_str(shape()),
              ", not exactly one element");
  return data()[0];
}

namespace {
std::size_t flat_index(const Shape& shape, const std::vector<std::size_t>& index, const char* op) {
  XGRAD_CHECK(index.size() == shape.size(), op, ": an index of ", index.size(), " values for shape ",
              shape_str(shape));
  std::size_t flat = 0;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    XGRAD_CHECK(index[i] < shape[i], op, ": index ", index[i], " out of range on axis ", i, " of shape ",
                shape_str(shape));
    flat = flat * shape[i] + index[i];
  }
  return flat;
}
}  // namespace

float Tensor::at(const std::vector<std::size_t>& index) const {
  return data()[flat_index(shape(), index, "Tensor::at")];
}

void Tensor::set(const std::vector<std::size_t>& index, float value) {
  data()[flat_index(shape(), index, "Tensor::set")] = value;
}

std::vector<float> Tensor::to_vector() const { return std::vector<float>(data(), data() + numel()); }

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }

Tensor& Tensor::set_requires_grad(bool on) {
  check_defined(impl_.get(), "set_requires_grad");
  XGRAD_CHECK(is_leaf(), "Tensor::set_requires_grad: only a leaf tensor's flag can be set (this one was "
                         "produced by ", impl_->grad_fn->op, ")");
  impl_->requires_grad = on;
  return *this;
}

bool Tensor::shares_storage() const {
  return defined() && (impl_.use_count() > 1 || impl_->storage.use_count() > 1);
}

bool Tensor::is_leaf() const { return impl_ && !impl_->grad_fn; }

Tensor Tensor::grad() const {
  if (!impl_) return Tensor();
  return impl_->grad_fn ? impl_->retained_grad : impl_->grad;
}

void Tensor::zero_grad() {
  Tensor g = grad();
  if (g.defined()) std::fill_n(g.data(), g.numel(), 0.0f);
}

Tensor& Tensor::retain_grad() {
  check_defined(impl_.get(), "retain_grad");
  XGRAD_CHECK(impl_->requires_grad, "Tensor::retain_grad: the tensor does not require grad");
  if (impl_->grad_fn) impl_->retains_grad = true;
  return *this;
}

bool Tensor::retains_grad() const { return impl_ && impl_->grad_fn && impl_->retains_grad; }

std::uint32_t Tensor::version() const {
  check_defined(impl_.get(), "version");
  return impl_->storage->version.load(std::memory_order_relaxed);
}

Tensor Tensor::detach() const {
  check_defined(impl_.get(), "detach");
  auto impl = new_tensor_impl();
  impl->shape = impl_->shape;
  impl->storage = impl_->storage;
  return Tensor(impl);
}

Tensor Tensor::clone() const {
  check_defined(impl_.get(), "clone");
  auto impl = make_impl(impl_->shape);
  std::copy_n(data(), numel(), impl->storage->data());
  return Tensor(impl);
}

Tensor empty(const Shape& shape) { return Tensor(make_impl(shape)); }

namespace {
void flatten_literal(const NestedList& list, Shape& shape, std::size_t depth, std::vector<float>& out) {
  if (list.is_scalar()) {
    XGRAD_CHECK(shape.size() == depth, "tensor: ragged literal (a number where a list of ",
                shape.size() > depth ? shape[depth] : 0, " was expected at depth ", depth, ")");
    out.push_back(list.scalar());
    return;
  }
  XGRAD_CHECK(shape.size() > depth || out.empty(), "tensor: ragged literal (a list where a number was "
              "expected at depth ", depth, ")");
  if (shape.size() <= depth) shape.push_back(list.items().size());
  XGRAD_CHECK(shape[depth] == list.items().size(), "tensor: ragged literal (a row of ", list.items().size(),
              " where ", shape[depth], " was expected at depth ", depth, ")");
  for (const NestedList& item : list.items()) flatten_literal(item, shape, depth + 1, out);
}
}  // namespace

Tensor tensor(const NestedList& values) {
  Shape shape;
  std::vector<float> flat;
  flatten_literal(values, shape, 0, flat);
  XGRAD_CHECK(flat.size() == numel(shape), "tensor: ragged literal of shape ", shape_str(shape));
  return from_vector(flat, shape);
}

Tensor full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  std::fill_n(t.data(), t.numel(), value);
  return t;
}

Tensor zeros(const Shape& shape) { return full(shape, 0.0f); }
Tensor ones(const Shape& shape) { return full(shape, 1.0f); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape()); }

Tensor arange(float stop) { return arange(0.0f, stop, 1.0f); }

Tensor arange(float start, float stop, float step) {
  XGRAD_CHECK(step != 0.0f && std::isfinite(start) && std::isfinite(stop) && std::isfinite(step),
              "arange: start ", start, ", stop ", stop, ", step ", step, " do not define a range");
  const double count = std::ceil((static_cast<double>(stop) - start) / step);
  Tensor t = empty({count > 0 ? static_cast<std::size_t>(count) : 0});
  for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(start + double(i) * step);
  return t;
}

Tensor from_vector(const std::vector<float>& values, const Shape& shape) {
  XGRAD_CHECK(values.size() == numel(shape), "from_vector: ", values.size(), " values cannot fill shape ",
              shape_str(shape));
  Tensor t = empty(shape);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor scalar_tensor(float value) { return full({}, value); }

Tensor randn(const Shape& shape, Generator& gen) {
  Tensor t = empty(shape);
  for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = gen.normal();
  return t;
}

Tensor rand(const Shape& shape, Generator& gen) { return uniform(shape, 0.0f, 1.0f, gen); }

Tensor uniform(const Shape& shape, float low, float high, Generator& gen) {
  XGRAD_CHECK(low <= high, "uniform: low ", low, " is above high ", high);
  Tensor t = empty(shape);
  // Rounding can carry low + (high - low) u up to high itself: keep the range half-open like PyTorch.
  const float below_high = low < high ? std::nextafter(high, low) : high;
  for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = std::min(low + (high - low) * gen.uniform(), below_high);
  return t;
}

namespace {
// Prints axis `axis` of the block starting at `offset`; long axes show their first and last three.
void print_block(std::ostream& out, const float* data, const Shape& shape, std::size_t axis,
                 std::size_t offset, std::size_t stride, bool summarize) {
  const std::size_t n = shape[axis];
  const std::size_t inner = stride / n;
  out << '[';
  for (std::size_t i = 0; i < n; ++i) {
    if (summarize && n > 6 && i == 3) {
      out << (axis + 1 == shape.size() ? ", ..." : ",\n...");
      i = n - 3;
    }
    if (i > 0) out << (axis + 1 == shape.size() ? ", " : ",\n" + std::string(axis + 1, ' '));
    if (axis + 1 == shape.size()) {
      out << std::setw(9) << std::setprecision(5) << data[offset + i];
    } else {
      print_block(out, data, shape, axis + 1, offset + i * inner, inner, summarize);
    }
  }
  out << ']';
}
}  // namespace

std::ostream& operator<<(std::ostream& out, const Tensor& t) {
  if (!t.defined()) return out << "Tensor(undefined)";
  out << "Tensor(shape=" << shape_str(t.shape());
  if (t.requires_grad()) out << ", requires_grad";
  out << ")\n";
  if (t.dim() == 0) return out << t.data()[0];
  if (t.numel() == 0) return out << "[]";
  print_block(out, t.data(), t.shape(), 0, 0, t.numel(), t.numel() > 1000);
  return out;
}

}  // namespace xgrad
