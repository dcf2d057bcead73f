// The reduction step the composed losses share: mean, sum or none of a tensor of losses. Internal to
// core/ops.
#pragma once
#include "xgrad/core/ops/loss.hpp"
#include "xgrad/core/ops/reduce.hpp"

namespace xgrad::detail {

inline Tensor reduce_loss(const Tensor& losses, Reduction reduction) {
  switch (reduction) {
    case Reduction::Mean: return mean(losses);
    case Reduction::Sum: return sum(losses);
    case Reduction::None: return losses;
  }
  return losses;
}

}  // namespace xgrad::detail
