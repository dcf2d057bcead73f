// Batch normalization layers with PyTorch's names and defaults, plus a Keras preset: BatchNorm1d
// ((N, C) or (N, C, L)), BatchNorm2d ((N, C, H, W)) and BatchNorm3d ((N, C, D, H, W)) share one
// implementation, which holds options, parameters and buffers and calls the functional op batch_norm
// (core/ops/batch_norm); the TF-style functional forms are in core/ops/normalization.
#pragma once
#include <string>
#include <vector>

#include "xgrad/core/ops/batch_norm.hpp"
#include "xgrad/layers/module.hpp"

namespace xgrad {

struct BatchNormOptions {
  int num_features = 0;  // C
  float eps = 1e-5f;     // added to the variance before the square root
  float momentum = 0.1f; // in [0, 1]; meaning set by `convention`
  bool affine = true;    // learnable weight (gamma, ones) and bias (beta, zeros)
  // Keep running_mean / running_var and use them in eval(); without them eval() uses batch statistics.
  bool track_running_stats = true;
  MomentumConvention convention = MomentumConvention::PyTorch;
  // The running variance is updated with the unbiased batch variance (divides by M - 1, M = N * H * W),
  // as PyTorch does; Keras uses the biased one (divides by M). Normalizing always uses the biased one.
  bool unbiased_running_var = true;
  // Output relu(batch_norm(x)) as one op (BatchNormExtras::relu): the same values and gradients as a ReLU
  // module after this one, one pass over the activations fewer each way. A model sets it where a ReLU
  // follows (conv_bn_act, the reference networks) and leaves an Identity in the ReLU's place.
  bool fused_relu = false;
  // Then MaxPool2d(2) (a 2x2 window, stride 2) in the same op (batch_norm_relu_max_pool2d): the same values
  // and gradients, bit for bit, without the full-size activation between them; the output is
  // (N, C, H / 2, W / 2), H and W even. Needs fused_relu and a BatchNorm2d. A model sets it where a
  // MaxPool2d(2) follows the ReLU (the reference networks) and leaves an Identity in the pool's place.
  bool fused_max_pool = false;

  BatchNormOptions() = default;
  explicit BatchNormOptions(int c) : num_features(c) {}  // PyTorch's defaults
  // tf.keras.layers.BatchNormalization's defaults: momentum 0.99 (Keras convention), epsilon 1e-3,
  // biased variance in the moving estimate, center and scale on.
  static BatchNormOptions keras(int c);
};

// Normalizes each channel of x (axis 1) by the batch's mean and biased variance in training, and by the
// running estimates in eval(); then applies weight (gamma) and bias (beta) per channel.
// Parameters: weight (C), bias (C) when affine. Buffers when track_running_stats: running_mean (C) zeros,
// running_var (C) ones, num_batches_tracked of shape () (a float count: exact up to 2^24 batches;
// PyTorch's is int64). Training with a single value per channel (N * H * W == 1) is an error. With
// fused_max_pool the output is pooled: (N, C, H / 2, W / 2).
class BatchNorm : public Module {
 public:
  // batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps) with the options'
  // extras; in eval() without running statistics, the batch's (as PyTorch). Counts num_batches_tracked.
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

  const BatchNormOptions& options() const { return options_; }
  // Undefined when the option that creates them is off. They share storage with the registered tensors.
  Tensor weight() const { return weight_; }
  Tensor bias() const { return bias_; }
  Tensor running_mean() const { return running_mean_; }
  Tensor running_var() const { return running_var_; }
  Tensor num_batches_tracked() const { return num_batches_tracked_; }

 protected:
  // `name` is the class name and `layout` the accepted shapes ("(N, C, H, W)"), for messages; `ranks` the
  // accepted input ranks.
  BatchNorm(const char* name, const char* layout, std::vector<std::size_t> ranks, const BatchNormOptions& options);

 private:
  void check_layout(const Tensor& x) const;

  const char* name_;
  const char* layout_;
  std::vector<std::size_t> ranks_;
  BatchNormOptions options_;
  Tensor weight_, bias_;
  Tensor running_mean_, running_var_, num_batches_tracked_;
};

class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(const BatchNormOptions& options)
      : BatchNorm("BatchNorm1d", "(N, C) or (N, C, L)", {2, 3}, options) {}
  explicit BatchNorm1d(int num_features) : BatchNorm1d(BatchNormOptions(num_features)) {}
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<BatchNorm1d>(options())); }
};

class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(const BatchNormOptions& options)
      : BatchNorm("BatchNorm2d", "(N, C, H, W)", {4}, options) {}
  explicit BatchNorm2d(int num_features) : BatchNorm2d(BatchNormOptions(num_features)) {}
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<BatchNorm2d>(options())); }
};

class BatchNorm3d : public BatchNorm {
 public:
  explicit BatchNorm3d(const BatchNormOptions& options)
      : BatchNorm("BatchNorm3d", "(N, C, D, H, W)", {5}, options) {}
  explicit BatchNorm3d(int num_features) : BatchNorm3d(BatchNormOptions(num_features)) {}
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<BatchNorm3d>(options())); }
};

}  // namespace xgrad
