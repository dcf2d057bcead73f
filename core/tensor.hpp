// Tensor: a float32 array of any rank, row-major and contiguous, with autograd bookkeeping.
// Copying a Tensor shares its storage and its graph identity, like torch::Tensor; clone() copies.
// The storage container is kept out of this header (see tensor_impl.hpp) to keep users' compiles fast.
#pragma once
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "xgrad/core/generator.hpp"
#include "xgrad/core/shape.hpp"

namespace xgrad {

struct TensorImpl;

// Class indices for classification losses: a plain integer type, never a float tensor.
using Labels = std::vector<std::int32_t>;

struct ValuesIndices;

// A nested literal for tensor({{...}}): a number or a list of NestedLists (like libtorch's
// TensorDataContainer). One type for every depth, so {{0.5f}, {-1.0f}} has one meaning: shape (2, 1).
class NestedList {
 public:
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  NestedList(T value) : scalar_(static_cast<float>(value)), is_scalar_(true) {}  // NOLINT: implicit
  NestedList(std::initializer_list<NestedList> items) : items_(items) {}
  bool is_scalar() const { return is_scalar_; }
  float scalar() const { return scalar_; }
  const std::vector<NestedList>& items() const { return items_; }

 private:
  float scalar_ = 0.0f;
  bool is_scalar_ = false;
  std::vector<NestedList> items_;
};

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl);

  // Nested initializer lists: Tensor{1, 2}, Tensor{{1, 2}, {3, 4}}, up to rank 4.
  Tensor(std::initializer_list<float> values);
  Tensor(std::initializer_list<std::initializer_list<float>> values);
  Tensor(std::initializer_list<std::initializer_list<std::initializer_list<float>>> values);
  Tensor(std::initializer_list<std::initializer_list<std::initializer_list<std::initializer_list<float>>>> values);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  std::size_t dim() const { return shape().size(); }
  std::size_t numel() const;
  std::size_t size(int axis) const;  // negative axes count from the end

  // Raw contiguous data, for kernels and optimizers. Writing through it bypasses autograd, so the
  // non-const form counts as a modification: it bumps the storage's version (see version()).
  float* data();
  const float* data() const;
  float item() const;  // the value of a one-element tensor
  float at(const std::vector<std::size_t>& index) const;
  void set(const std::vector<std::size_t>& index, float value);
  std::vector<float> to_vector() const;

  // Autograd.
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on = true);  // leaves only
  bool is_leaf() const;
  Tensor grad() const;  // undefined until a backward reaches this tensor
  void zero_grad();     // fills the gradient with zeros in place, keeping its buffer
  void backward() const;  // from a one-element tensor
  void backward(const Tensor& upstream) const;
  Tensor detach() const;  // shares storage, no graph
  Tensor clone() const;   // copies storage, no graph
  // Keeps this non-leaf's gradient after backward(), as torch's retain_grad(); a no-op on leaves.
  Tensor& retain_grad();
  bool retains_grad() const;
  // PyTorch's version counter, shared by every tensor on the same storage: each in-place op and each
  // non-const data() adds one. backward() throws if a tensor an op saved has changed since the forward.
  std::uint32_t version() const;

  // Method forms of the free functions (core/tensor_methods.cpp), as torch.Tensor's methods.
  Tensor sum(const std::vector<int>& axes = {}, bool keepdim = false) const;
  Tensor mean(const std::vector<int>& axes = {}, bool keepdim = false) const;
  Tensor var(const std::vector<int>& axes = {}, bool unbiased = true, bool keepdim = false) const;
  Tensor max() const;
  Tensor min() const;
  ValuesIndices max(int dim, bool keepdim = false) const;
  ValuesIndices min(int dim, bool keepdim = false) const;
  Tensor argmax() const;
  Tensor argmin() const;
  Tensor argmax(int dim, bool keepdim = false) const;
  Tensor argmin(int dim, bool keepdim = false) const;
  Tensor reshape(const Shape& shape) const;
  Tensor reshape_sizes(std::span<const std::int64_t> sizes) const;  // one size may be -1
  // x.reshape({-1, 4}): a list of signed ints (a list holding a size_t goes to the Shape form).
  template <std::signed_integral I>
  Tensor reshape(std::initializer_list<I> shape) const {
    const std::vector<std::int64_t> sizes(shape.begin(), shape.end());
    return reshape_sizes(sizes);
  }
  Tensor flatten(int start_dim = 0, int end_dim = -1) const;
  Tensor squeeze() const;
  Tensor squeeze(int dim) const;
  Tensor unsqueeze(int dim) const;
  Tensor transpose(int dim0, int dim1) const;
  Tensor permute(const std::vector<int>& dims) const;
  Tensor t() const;  // transpose of a 2-D tensor
  Tensor index_select(int dim, const Tensor& index) const;
  Tensor gather(int dim, const Tensor& index) const;
  Tensor masked_fill(const Tensor& mask, float value) const;
  Tensor matmul(const Tensor& other) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor log1p() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor sin() const;
  Tensor cos() const;
  Tensor pow(float exponent) const;
  Tensor neg() const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor softmax(int dim) const;
  Tensor log_softmax(int dim) const;
  Tensor clamp(float min, float max) const;
  Tensor eq(const Tensor& other) const;
  Tensor ne(const Tensor& other) const;
  Tensor lt(const Tensor& other) const;
  Tensor le(const Tensor& other) const;
  Tensor gt(const Tensor& other) const;
  Tensor ge(const Tensor& other) const;

  // In place (core/ops/inplace.cpp): under grad mode a leaf that requires grad refuses, as in PyTorch;
  // a non-leaf takes the op into its history. `other` broadcasts to this tensor's shape.
  Tensor& add_(const Tensor& other, float alpha = 1.0f);
  Tensor& add_(float value);
  Tensor& sub_(const Tensor& other);
  Tensor& sub_(float value);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(float value);
  Tensor& div_(const Tensor& other);
  Tensor& div_(float value);
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(float value);
  Tensor& zero_();
  Tensor& masked_fill_(const Tensor& mask, float value);
  Tensor& operator+=(const Tensor& other) { return add_(other); }
  Tensor& operator+=(float value) { return add_(value); }
  Tensor& operator-=(const Tensor& other) { return sub_(other); }
  Tensor& operator-=(float value) { return sub_(value); }
  Tensor& operator*=(const Tensor& other) { return mul_(other); }
  Tensor& operator*=(float value) { return mul_(value); }
  Tensor& operator/=(const Tensor& other) { return div_(other); }
  Tensor& operator/=(float value) { return div_(value); }

  // Whether anything else can see this tensor's values: another handle to it (a copy of this Tensor) or
  // another tensor on the same storage (reshape, detach). When false, writing in place is invisible to
  // every caller, so a buffer can be reused (the data loader does).
  bool shares_storage() const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// torch.max(x, dim) and torch.min(x, dim): the values and where they are along dim.
struct ValuesIndices {
  Tensor values;
  Tensor indices;  // float32 holding integer positions (exact below 2^24), like every xgrad index tensor
};

// Factories.
// torch.tensor: tensor({{1, 2}, {3, 4}}) is (2, 2), tensor({{0.5f}, {-1.0f}}) is (2, 1), tensor(3) is a
// rank-0 tensor. Any depth; ragged lists throw.
Tensor tensor(const NestedList& values);
Tensor empty(const Shape& shape);  // uninitialized
Tensor zeros(const Shape& shape);
Tensor ones(const Shape& shape);
Tensor full(const Shape& shape, float value);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor arange(float stop);
Tensor arange(float start, float stop, float step = 1.0f);
Tensor from_vector(const std::vector<float>& values, const Shape& shape);
Tensor scalar_tensor(float value);  // rank 0
Tensor randn(const Shape& shape, Generator& gen);
Tensor rand(const Shape& shape, Generator& gen);  // uniform in [0, 1)
Tensor uniform(const Shape& shape, float low, float high, Generator& gen);

// Prints shape and values (summarized past 1,000 elements), and whether it requires grad.
std::ostream& operator<<(std::ostream& out, const Tensor& t);

}  // namespace xgrad
