// Tensor: a float32 array of any rank, row-major and contiguous, with autograd bookkeeping.
// Copying a Tensor shares its storage and its graph identity, like torch::Tensor; clone() copies.
// The storage container is kept out of this header (see tensor_impl.hpp) to keep users' compiles fast.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <vector>

#include "xgrad/core/generator.hpp"
#include "xgrad/core/shape.hpp"

namespace xgrad {

struct TensorImpl;

// Class indices for classification losses: a plain integer type, never a float tensor.
using Labels = std::vector<std::int32_t>;

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

  // Raw contiguous data, for kernels and optimizers. Writing through it bypasses autograd.
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

// Factories.
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
