// Losses, with torch.nn.functional's names, arguments and defaults. Every loss takes a Reduction:
// None keeps the per-element (or per-sample) losses, Mean and Sum reduce them to a scalar.
// Fused: cross_entropy (default options) and mse_loss (loss.cpp); composed from primitive ops so autograd
// differentiates them: the rest (loss_classification.cpp, loss_regression.cpp).
#pragma once
#include <cstdint>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

enum class Reduction { Mean, Sum, None };

// torch's cross_entropy / nll_loss keyword arguments. weight: one per class (C) or undefined;
// labels equal to ignore_index count for nothing (Mean divides by the summed weights of the others);
// label_smoothing in [0, 1] mixes the target with the uniform distribution over the C classes.
struct CrossEntropyOptions {
  Tensor weight;
  std::int32_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
  float label_smoothing = 0.0f;
};

// logits (N, C) and labels in [0, C): -log softmax(logits)[label], computed stably (log-sum-exp).
// None gives shape (N,).
Tensor cross_entropy(const Tensor& logits, const Labels& labels, Reduction reduction = Reduction::Mean);
// The same with class weights, ignore_index and label smoothing (default options take the fused path).
Tensor cross_entropy(const Tensor& logits, const Labels& labels, const CrossEntropyOptions& options);
// log_probs (N, C) (a log_softmax's output): -weight[label] log_probs[n, label]; label_smoothing unused.
Tensor nll_loss(const Tensor& log_probs, const Labels& labels, const CrossEntropyOptions& options = {});

// probs and targets of one shape, probs in [0, 1]: -w (t log p + (1 - t) log(1 - p)), each log clamped
// at -100 as torch does. weight broadcasts to the input's shape or is undefined.
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets, const Tensor& weight = Tensor(),
                            Reduction reduction = Reduction::Mean);
// From logits, stably: -w (pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))); pos_weight
// broadcasts along the last (class) axis, weight to the input's shape; either may be undefined.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets,
                                        const Tensor& weight = Tensor(), const Tensor& pos_weight = Tensor(),
                                        Reduction reduction = Reduction::Mean);
// KL(target || exp(input)) pointwise with input in log space: target (log target - input), 0 where
// target is 0; with log_target, exp(target) (target - input). Mean averages over every element, as
// torch's 'mean'; torch's 'batchmean' is kl_div(..., Reduction::Sum) / N.
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
              bool log_target = false);

// (a - b)^2 with a and b of the same shape.
Tensor mse_loss(const Tensor& a, const Tensor& b, Reduction reduction = Reduction::Mean);
// |a - b|.
Tensor l1_loss(const Tensor& a, const Tensor& b, Reduction reduction = Reduction::Mean);
// 0.5 d^2 / beta where d = |a - b| < beta, else d - 0.5 beta (beta = 0 is l1_loss).
Tensor smooth_l1_loss(const Tensor& a, const Tensor& b, Reduction reduction = Reduction::Mean, float beta = 1.0f);
// 0.5 d^2 where d < delta, else delta (d - 0.5 delta): smooth_l1_loss times delta.
Tensor huber_loss(const Tensor& a, const Tensor& b, Reduction reduction = Reduction::Mean, float delta = 1.0f);

}  // namespace xgrad
