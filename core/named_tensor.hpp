// NamedTensor: a tensor with its dotted name ("features.1.weight"), as modules list their parameters and
// buffers and as optimizers and checkpoints key their state. A plain pair, so that optim/ and models/
// need nothing from layers/ to speak of named parameters.
#pragma once
#include <string>
#include <utility>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

using NamedTensor = std::pair<std::string, Tensor>;

}  // namespace xgrad
