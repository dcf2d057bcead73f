// evaluate and predict: a model over a whole loader in inference mode (Keras' model.evaluate / predict):
// eval mode, no graph, a Sequential's BatchNorms folded into the conv or dense before them (fuse_conv_bn),
// and the model's train/eval mode restored afterwards, also when a batch throws.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/core/tensor.hpp"
#include "xgrad/data/data_loader.hpp"
#include "xgrad/layers/module.hpp"
#include "xgrad/training/loss_function.hpp"
#include "xgrad/training/metrics.hpp"

namespace xgrad {

// Every metric reset, updated with each batch, and computed, by name: {"accuracy": 0.97, "loss": 0.08}.
// `loss`, if given, adds "loss": its mean over the samples (each batch's value weighted by its size).
std::map<std::string, double> evaluate(Module& model, DataLoader& loader,
                                       const std::vector<std::shared_ptr<Metric>>& metrics,
                                       const LossFunction& loss = nullptr);

// The model's outputs for every batch of `loader`, stacked in the loader's order: (N, ...).
Tensor predict(Module& model, DataLoader& loader);

}  // namespace xgrad
