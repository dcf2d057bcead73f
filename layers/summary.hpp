// summary(): a table of a model's layers like Keras' Model.summary(), found by running one forward pass
// on zeros and recording each module call. Not a graph printer: it lists leaf modules in call order.
#pragma once
#include <string>

#include "xgrad/core/shape.hpp"
#include "xgrad/layers/module.hpp"

namespace xgrad {

// Runs model(zeros(input_shape)) under NoGradGuard in eval mode (each module's own mode is restored
// afterwards, even if the forward throws), and returns a table with one row per call of a leaf module (or
// of a module holding parameters of its own): its dotted name, describe(), output shape and parameter
// count; then the input shape, the total, trainable and non-trainable parameter counts, and the number
// of buffer values. input_shape includes the batch axis, e.g. {1, 3, 32, 32}. A module called twice gets
// two rows; the totals count each parameter once. It calls the one-tensor forward: for a model whose
// forward takes several tensors (module.hpp) it throws the xgrad::Error that names the model.
std::string summary(Module& model, const Shape& input_shape);

}  // namespace xgrad
