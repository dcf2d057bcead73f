// Tensor's method forms (x.sum(), x.reshape({-1, 4}), x.argmax(1), ...): each calls its free function in
// core/ops. The in-place methods are in core/ops/inplace.cpp.
#include "xgrad/core/ops/activation.hpp"
#include "xgrad/core/ops/comparison.hpp"
#include "xgrad/core/ops/elementwise.hpp"
#include "xgrad/core/ops/indexing.hpp"
#include "xgrad/core/ops/matmul.hpp"
#include "xgrad/core/ops/reduce.hpp"
#include "xgrad/core/ops/shape_ops.hpp"
#include "xgrad/core/error.hpp"

namespace xgrad {

Tensor Tensor::sum(const std::vector<int>& axes, bool keepdim) const { return xgrad::sum(*this, axes, keepdim); }
Tensor Tensor::mean(const std::vector<int>& axes, bool keepdim) const { return xgrad::mean(*this, axes, keepdim); }
Tensor Tensor::var(const std::vector<int>& axes, bool unbiased, bool keepdim) const {
  return xgrad::var(*this, axes, unbiased, keepdim);
}
Tensor Tensor::max() const { return xgrad::max(*this); }
Tensor Tensor::min() const { return xgrad::min(*this); }
ValuesIndices Tensor::max(int dim, bool keepdim) const { return max_with_indices(*this, dim, keepdim); }
ValuesIndices Tensor::min(int dim, bool keepdim) const { return min_with_indices(*this, dim, keepdim); }
Tensor Tensor::argmax() const { return xgrad::argmax(*this); }
Tensor Tensor::argmin() const { return xgrad::argmin(*this); }
Tensor Tensor::argmax(int dim, bool keepdim) const { return xgrad::argmax(*this, dim, keepdim); }
Tensor Tensor::argmin(int dim, bool keepdim) const { return xgrad::argmin(*this, dim, keepdim); }
Tensor Tensor::reshape(const Shape& shape) const { return xgrad::reshape(*this, shape); }
Tensor Tensor::reshape_sizes(std::span<const std::int64_t> sizes) const { return xgrad::reshape_sizes(*this, sizes); }
Tensor Tensor::flatten(int start_dim, int end_dim) const { return xgrad::flatten(*this, start_dim, end_dim); }
Tensor Tensor::squeeze() const { return xgrad::squeeze(*this); }
Tensor Tensor::squeeze(int dim) const { return xgrad::squeeze(*this, dim); }
Tensor Tensor::unsqueeze(int dim) const { return xgrad::unsqueeze(*this, dim); }
Tensor Tensor::transpose(int dim0, int dim1) const { return xgrad::transpose(*this, dim0, dim1); }
Tensor Tensor::permute(const std::vector<int>& dims) const { return xgrad::permute(*this, dims); }
Tensor Tensor::t() const {
  XGRAD_CHECK(dim() == 2, "Tensor::t: the tensor has shape ", shape_str(shape()), ", not rank 2");
  return xgrad::transpose(*this, 0, 1);
}
Tensor Tensor::index_select(int dim, const Tensor& index) const { return xgrad::index_select(*this, dim, index); }
Tensor Tensor::gather(int dim, const Tensor& index) const { return xgrad::gather(*this, dim, index); }
Tensor Tensor::masked_fill(const Tensor& mask, float value) const { return xgrad::masked_fill(*this, mask, value); }
Tensor Tensor::matmul(const Tensor& other) const { return xgrad::matmul(*this, other); }
Tensor Tensor::exp() const { return xgrad::exp(*this); }
Tensor Tensor::log() const { return xgrad::log(*this); }
Tensor Tensor::log1p() const { return xgrad::log1p(*this); }
Tensor Tensor::sqrt() const { return xgrad::sqrt(*this); }
Tensor Tensor::abs() const { return xgrad::abs(*this); }
Tensor Tensor::sin() const { return xgrad::sin(*this); }
Tensor Tensor::cos() const { return xgrad::cos(*this); }
Tensor Tensor::pow(float exponent) const { return xgrad::pow(*this, exponent); }
Tensor Tensor::neg() const { return xgrad::neg(*this); }
Tensor Tensor::relu() const { return xgrad::relu(*this); }
Tensor Tensor::sigmoid() const { return xgrad::sigmoid(*this); }
Tensor Tensor::tanh() const { return xgrad::tanh(*this); }
Tensor Tensor::softmax(int dim) const { return xgrad::softmax(*this, dim); }
Tensor Tensor::log_softmax(int dim) const { return xgrad::log_softmax(*this, dim); }
Tensor Tensor::clamp(float min, float max) const { return xgrad::clamp(*this, min, max); }
Tensor Tensor::eq(const Tensor& other) const { return xgrad::eq(*this, other); }
Tensor Tensor::ne(const Tensor& other) const { return xgrad::ne(*this, other); }
Tensor Tensor::lt(const Tensor& other) const { return xgrad::lt(*this, other); }
Tensor Tensor::le(const Tensor& other) const { return xgrad::le(*this, other); }
Tensor Tensor::gt(const Tensor& other) const { return xgrad::gt(*this, other); }
Tensor Tensor::ge(const Tensor& other) const { return xgrad::ge(*this, other); }

}  // namespace xgrad
