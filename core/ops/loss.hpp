// Losses.
#pragma once
#include "xgrad/core/tensor.hpp"

namespace xgrad {

enum class Reduction { Mean, Sum, None };

// logits (N, C) and labels in [0, C): -log softmax(logits)[label], computed stably (log-sum-exp).
// None gives shape (N,).
Tensor cross_entropy(const Tensor& logits, const Labels& labels, Reduction reduction = Reduction::Mean);
// (a - b)^2 with a and b of the same shape.
Tensor mse_loss(const Tensor& a, const Tensor& b, Reduction reduction = Reduction::Mean);

}  // namespace xgrad
