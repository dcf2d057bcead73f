// evaluate and predict: see evaluate.hpp.
#include "xgrad/training/evaluate.hpp"

#include <cstring>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/loss.hpp"
#include "xgrad/models/fuse.hpp"
#include "xgrad/models/sequential.hpp"

namespace xgrad {

Tensor default_loss(const Tensor& output, const Batch& batch) {
  if (!batch.labels.empty()) return cross_entropy(output, batch.labels);
  XGRAD_CHECK(batch.targets.defined(), "default_loss: the batch has neither labels nor targets");
  return mse_loss(output, batch.targets);
}

namespace {

// Eval mode and no graph for its lifetime; the model's mode comes back even if a batch throws.
class InferenceScope {
 public:
  explicit InferenceScope(Module& model) : model_(model), was_training_(model.is_training()) {
    model.eval();
    // In eval mode a BatchNorm after a conv or dense is a per-channel affine map: fold it into the layer,
    // saving a pass over every activation (the fused model shares all other modules with `model`).
    if (const auto* sequential = dynamic_cast<const Sequential*>(&model)) fused_ = fuse_conv_bn(*sequential);
  }
  ~InferenceScope() { model_.train(was_training_); }
  Module& model() { return fused_ ? static_cast<Module&>(*fused_) : model_; }

 private:
  Module& model_;
  bool was_training_;
  NoGradGuard no_grad_;
  std::shared_ptr<Sequential> fused_;
};

}  // namespace

std::map<std::string, double> evaluate(Module& model, DataLoader& loader,
                                       const std::vector<std::shared_ptr<Metric>>& metrics, const LossFunction& loss) {
  InferenceScope scope(model);
  for (const auto& m : metrics) {
    XGRAD_CHECK(m != nullptr, "evaluate: a metric is null");
    m->reset();
  }
  double loss_sum = 0;
  std::size_t seen = 0;
  for (const Batch& batch : loader) {
    const Tensor out = scope.model()(batch.inputs);
    for (const auto& m : metrics) m->update(out, batch);
    if (loss) loss_sum += double(loss(out, batch).item()) * double(batch.size());
    seen += batch.size();
  }
  std::map<std::string, double> result;
  for (const auto& m : metrics) result[m->name()] = m->compute();
  if (loss) result["loss"] = seen ? loss_sum / double(seen) : 0.0;
  return result;
}

Tensor predict(Module& model, DataLoader& loader) {
  InferenceScope scope(model);
  std::vector<Tensor> parts;
  std::size_t rows = 0;
  for (const Batch& batch : loader) {
    parts.push_back(scope.model()(batch.inputs).clone());
    XGRAD_CHECK(parts.back().dim() >= 1 && parts.back().size(0) == batch.size(), "predict: the model gave ",
                shape_str(parts.back().shape()), " for a batch of ", batch.size(), " samples");
    XGRAD_CHECK(Shape(parts.back().shape().begin() + 1, parts.back().shape().end()) ==
                    Shape(parts.front().shape().begin() + 1, parts.front().shape().end()),
                "predict: outputs of shape ", shape_str(parts.back().shape()), " after ",
                shape_str(parts.front().shape()));
    rows += batch.size();
  }
  Shape shape = parts.front().shape();
  shape[0] = rows;
  Tensor all = empty(shape);
  std::size_t offset = 0;
  for (const Tensor& p : parts) {
    std::memcpy(all.data() + offset, p.data(), p.numel() * sizeof(float));
    offset += p.numel();
  }
  return all;
}

}  // namespace xgrad
