// Activation functions and softmax.
#pragma once
#include "xgrad/core/tensor.hpp"

namespace xgrad {

Tensor relu(const Tensor& x);  // gradient 0 at 0, like PyTorch
Tensor leaky_relu(const Tensor& x, float negative_slope = 0.01f);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor gelu(const Tensor& x);  // exact form x * Phi(x), PyTorch's default
// log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (torch's softplus).
Tensor softplus(const Tensor& x, float beta = 1.0f, float threshold = 20.0f);
Tensor softmax(const Tensor& x, int axis = -1);
Tensor log_softmax(const Tensor& x, int axis = -1);

}  // namespace xgrad
