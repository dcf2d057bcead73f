// Activation layers: see activations.hpp. The ops check their own inputs; the layers add only the
// checks the ops cannot phrase in the layer's name.
#include "xgrad/layers/activations.hpp"

#include <cmath>
#include <sstream>

#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/activation.hpp"

namespace xgrad {

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

LeakyReLU::LeakyReLU(float negative_slope) : negative_slope_(negative_slope) {
  XGRAD_CHECK(std::isfinite(negative_slope), "LeakyReLU: negative_slope ", negative_slope, " is not finite");
}

Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, negative_slope_); }

std::string LeakyReLU::describe() const {
  std::ostringstream out;
  out << "LeakyReLU(negative_slope=" << negative_slope_ << ")";
  return out.str();
}

Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor GELU::forward(const Tensor& x) { return gelu(x); }

Softmax::Softmax(int dim) : dim_(dim) {}

Tensor Softmax::forward(const Tensor& x) {
  XGRAD_CHECK(x.defined(), describe(), ": the input is undefined");
  const int rank = static_cast<int>(x.dim());
  XGRAD_CHECK(dim_ >= -rank && dim_ < rank, describe(), ": dim ", dim_, " is out of range for input of shape ",
              shape_str(x.shape()));
  return softmax(x, dim_);
}

std::string Softmax::describe() const {
  std::ostringstream out;
  out << "Softmax(dim=" << dim_ << ")";
  return out.str();
}

}  // namespace xgrad
