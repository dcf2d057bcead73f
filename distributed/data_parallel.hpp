// Data-parallel training's two collective steps on a model: the same start everywhere
// (broadcast_parameters, like Horovod's broadcast_parameters and PyTorch DDP's constructor) and the
// average of the gradients after each backward (GradientAverager, like DDP's reducer: gradients packed
// into a few contiguous buckets, each allreduced in one call, then unpacked). Not a training loop.
#pragma once
#include <cstddef>
#include <vector>

#include "xgrad/distributed/communicator.hpp"
#include "xgrad/layers/module.hpp"

namespace xgrad::distributed {

// Copies rank `root`'s parameters and buffers (BN's running statistics) into every rank's `model`, all
// packed into one buffer, in the order of named_parameters() then named_buffers(). Every rank must hold
// the same architecture: the names and shapes are checked first (one allreduce of a fingerprint), and a
// mismatch throws xgrad::Error on every rank.
void broadcast_parameters(Module& model, const Communicator& comm, int root = 0);

struct GradientAveragerOptions {
  // Floats per bucket (4 MB): each bucket is one allreduce. PyTorch DDP's bucket_cap_mb is 25; smaller
  // buckets cost a call each, larger ones only memory. 0 is an error.
  std::size_t bucket_floats = std::size_t{1} << 20;
};

// Averages the gradients of `parameters` over the ranks so that every rank holds the gradient of the loss
// over the global batch: grad = sum_r (n_r / n) grad_r, with n_r the rank's samples in this step and
// n = sum_r n_r (equal weights when the shards are equal; the last batch of an epoch may split unevenly).
// A parameter without a gradient on this rank counts as zeros and stays without one.
class GradientAverager {
 public:
  GradientAverager(std::vector<Tensor> parameters, Communicator comm, GradientAveragerOptions options = {});

  // Collective: every rank calls it after backward, with its own sample count (0 allowed).
  void average(std::size_t local_count);

  std::size_t bucket_count() const { return buckets_.size(); }
  // Floats sent per step (gradients and the one count), for the cost model.
  std::size_t floats_per_step() const;

 private:
  struct Bucket {
    std::size_t first = 0, last = 0;  // parameters_[first, last)
    std::vector<float> buffer;        // their gradients, one after another (+ the count in the last bucket)
  };
  std::vector<Tensor> parameters_;
  Communicator comm_;
  std::vector<Bucket> buckets_;
};

}  // namespace xgrad::distributed
