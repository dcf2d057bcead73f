// broadcast_parameters and GradientAverager: see data_parallel.hpp.
#include "xgrad/distributed/data_parallel.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "xgrad/core/error.hpp"

namespace xgrad::distributed {
namespace {

// FNV-1a over the names and shapes, in order: equal on two ranks when the architectures are (up to a
// 2^-64 chance).
std::uint64_t fingerprint(const std::vector<NamedTensor>& named) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
  };
  for (const auto& [name, t] : named) {
    mix(name.data(), name.size() + 1);
    for (std::size_t d : t.shape()) mix(&d, sizeof d);
  }
  return h;
}

}  // namespace

void broadcast_parameters(Module& model, const Communicator& comm, int root) {
  std::vector<NamedTensor> named = model.named_parameters();
  for (auto& b : model.named_buffers()) named.push_back(b);
  // Same architecture everywhere? Root's fingerprint to all, then any mismatch to all, so that every rank
  // throws (a rank left waiting in the broadcast below would hang the job).
  std::uint64_t h = fingerprint(named), root_h = h;
  comm.broadcast(&root_h, 1, root);
  double mismatch = h == root_h ? 0.0 : 1.0;
  comm.allreduce_max(&mismatch, 1);
  XGRAD_CHECK(mismatch == 0.0, "broadcast_parameters: the model's parameter and buffer names or shapes differ from "
              "rank ", root, "'s on some rank (", named.size(), " tensors here)");

  std::size_t total = 0;
  for (const auto& [name, t] : named) total += t.numel();
  std::vector<float> buffer(total);
  std::size_t at = 0;
  for (const auto& [name, t] : named) {
    std::memcpy(buffer.data() + at, t.data(), t.numel() * sizeof(float));
    at += t.numel();
  }
  comm.broadcast(buffer.data(), buffer.size(), root);
  at = 0;
  for (auto& [name, t] : named) {
    std::memcpy(t.data(), buffer.data() + at, t.numel() * sizeof(float));
    at += t.numel();
  }
}

GradientAverager::GradientAverager(std::vector<Tensor> parameters, Communicator comm,
                                   GradientAveragerOptions options)
    : parameters_(std::move(parameters)), comm_(comm) {
  XGRAD_CHECK(options.bucket_floats > 0, "GradientAverager: bucket_floats must be positive, got 0");
  // Consecutive parameters fill a bucket up to bucket_floats; a larger parameter gets a bucket of its own.
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    XGRAD_CHECK(parameters_[i].defined(), "GradientAverager: parameter ", i, " is undefined");
    const std::size_t n = parameters_[i].numel();
    if (buckets_.empty() || buckets_.back().buffer.size() + n > options.bucket_floats) {
      buckets_.push_back(Bucket{i, i, {}});
    }
    buckets_.back().last = i + 1;
    buckets_.back().buffer.resize(buckets_.back().buffer.size() + n);
  }
  if (buckets_.empty()) buckets_.push_back(Bucket{});
  buckets_.back().buffer.push_back(0.0f);  // the rank's sample count rides in the last bucket
}

std::size_t GradientAverager::floats_per_step() const {
  std::size_t n = 0;
  for (const Bucket& b : buckets_) n += b.buffer.size();
  return n;
}

void GradientAverager::average(std::size_t local_count) {
  if (comm_.size() == 1) return;  // one process: its gradient is the global one, bit for bit
  // The last bucket goes first: it carries the count that every bucket's scale needs.
  for (std::size_t k = buckets_.size(); k-- > 0;) {
    Bucket& b = buckets_[k];
    // buffer = n_r * grad_r for each parameter (zeros without a gradient), then sum over ranks.
    const float weight = static_cast<float>(local_count);
    float* out = b.buffer.data();
    for (std::size_t i = b.first; i < b.last; ++i) {
      const Tensor g = parameters_[i].grad();
      const std::size_t n = parameters_[i].numel();
      if (g.defined()) {
        const float* src = g.data();
        for (std::size_t j = 0; j < n; ++j) out[j] = weight * src[j];
      } else {
        std::fill_n(out, n, 0.0f);
      }
      out += n;
    }
    if (k + 1 == buckets_.size()) b.buffer.back() = weight;
    comm_.allreduce_sum(b.buffer.data(), b.buffer.size());
  }
  const float total = buckets_.back().buffer.back();
  if (total == 0.0f) return;  // no rank had a sample: nothing to average
  const float scale = 1.0f / total;
  // grad = (sum_r n_r grad_r) / n.
  for (const Bucket& b : buckets_) {
    const float* in = b.buffer.data();
    for (std::size_t i = b.first; i < b.last; ++i) {
      Tensor g = parameters_[i].grad();
      const std::size_t n = parameters_[i].numel();
      if (g.defined()) {
        float* dst = g.data();
        for (std::size_t j = 0; j < n; ++j) dst[j] = in[j] * scale;
      }
      in += n;
    }
  }
}

}  // namespace xgrad::distributed
