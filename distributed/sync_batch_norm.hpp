// SyncBatchNorm: batch normalization over the global batch of data-parallel training (PyTorch's
// torch.nn.SyncBatchNorm; libtorch's C++ API has none). In training, the statistics are those of the union
// of every rank's shard (see sync_batch_norm_op.hpp), so N ranks at batch B normalize as one process at
// N * B; the running statistics are updated from those global statistics, identically on every rank. In
// eval() it is a plain per-channel affine map from the running statistics, with no communication.
// It takes BatchNorm's options (both momentum conventions) and registers the same names (weight, bias,
// running_mean, running_var, num_batches_tracked), so checkpoints move between the two.
#pragma once
#include <memory>
#include <string>

#include "xgrad/distributed/communicator.hpp"
#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/layers/module.hpp"

namespace xgrad::distributed {

class SyncBatchNorm : public Module {
 public:
  // Any input (N, C, ...) of rank 2 to 5, like BatchNorm1d/2d/3d together. The default Communicator is one
  // process (then it is BatchNorm exactly, up to rounding).
  explicit SyncBatchNorm(const BatchNormOptions& options, Communicator comm = {});

  // With options.fused_relu (a BatchNorm converted from a model that fused its ReLU, an Identity in the
  // ReLU's place), relu() follows as a separate op: the same values and gradients, not fused; with
  // fused_max_pool too, max_pool2d(relu(y), 2) as two ops.
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<SyncBatchNorm>(options_, comm_)); }

  const BatchNormOptions& options() const { return options_; }
  const Communicator& communicator() const { return comm_; }
  Tensor weight() const { return weight_; }
  Tensor bias() const { return bias_; }
  Tensor running_mean() const { return running_mean_; }
  Tensor running_var() const { return running_var_; }
  Tensor num_batches_tracked() const { return num_batches_tracked_; }

 private:
  Tensor normalize(const Tensor& x);
  BatchNormOptions options_;
  Communicator comm_;
  Tensor weight_, bias_;
  Tensor running_mean_, running_var_, num_batches_tracked_;
};

// Replaces every BatchNorm1d/2d/3d in `model` (recursively, at any depth) by a SyncBatchNorm over `comm`
// with the same options, and copies of its parameters, buffers and train/eval mode; returns how many it
// replaced. Call it before building the optimizer, which must see the new parameters (as in PyTorch).
std::size_t convert_sync_batchnorm(Module& model, const Communicator& comm);

}  // namespace xgrad::distributed
