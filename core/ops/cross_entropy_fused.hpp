// The fused cross_entropy (loss.cpp): log_softmax, the negative log-likelihood and label smoothing in one
// op, for the short form and for CrossEntropyOptions without class weights or ignored labels. Internal to
// core/ops.
#pragma once
#include "xgrad/core/ops/loss.hpp"

namespace xgrad::detail {

// label_smoothing in [0, 1]: the target of each row is (1 - label_smoothing) at its label plus
// label_smoothing / C everywhere. With 0, the same bits as the loss without smoothing always had.
Tensor fused_cross_entropy(const Tensor& logits, const Labels& labels, Reduction reduction, float label_smoothing);

}  // namespace xgrad::detail
