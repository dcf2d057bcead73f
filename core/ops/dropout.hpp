// Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1-p);
// in evaluation, the identity. The mask is drawn from the given generator, so runs are reproducible.
#pragma once
#include "xgrad/core/tensor.hpp"

namespace xgrad {

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen);

}  // namespace xgrad
