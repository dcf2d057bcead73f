// The graph op of SyncBatchNorm: batch normalization whose statistics are those of the global batch, the
// union of every rank's shard. Forward allreduces per channel (count, sum x, sum x^2); backward allreduces
// the two per-channel sums of the gradient. The module (sync_batch_norm.hpp) holds options, parameters
// and buffers and calls this. With a one-process Communicator it is exactly batch normalization.
#pragma once
#include "xgrad/core/tensor.hpp"
#include "xgrad/distributed/communicator.hpp"

namespace xgrad::distributed {

// The global batch's statistics per channel, as the running-statistics update needs them.
struct SyncBatchNormStats {
  Tensor mean;       // (C)
  Tensor var;        // (C), biased (divides by count)
  double count = 0;  // values per channel in the global batch: sum over ranks of N_r * HW
};

// x: (N, C, ...) on this rank; weight, bias: (C) or undefined (affine off). Returns
// y = (x - mean) / sqrt(var + eps) * weight + bias with mean and var over the global batch, and fills
// `stats` if given. Collective: every rank calls it with the same C (N may differ, even 0). The global
// count must exceed 1.
//
// Gradients follow the data-parallel convention of GradientAverager: each rank's loss is the mean over its
// own N_r samples and the parameter gradients are then averaged with weights N_r / N. Under it, the
// gradient this op returns for x, scaled by N_r / N, is the exact gradient of the global loss.
Tensor sync_batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps,
                       const Communicator& comm, SyncBatchNormStats* stats = nullptr);

}  // namespace xgrad::distributed
