// Losses, each forward followed by its backward. cross_entropy fuses log_softmax and the negative
// log-likelihood (with label smoothing, if asked), so its backward is the short (softmax - target) instead
// of several ops' worth.
#include "xgrad/core/ops/loss.hpp"

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/cross_entropy_fused.hpp"
#include "xgrad/core/storage_pool.hpp"

namespace xgrad {
namespace {

// Per-sample weight of the upstream gradient: g / N for Mean, g for Sum, g[n] for None.
float upstream_weight(const Tensor& g, std::size_t n, std::size_t count, Reduction reduction) {
  switch (reduction) {
    case Reduction::Mean: return g.data()[0] / static_cast<float>(count);
    case Reduction::Sum: return g.data()[0];
    case Reduction::None: return g.data()[n];
  }
  return 0.0f;
}

// Reduces per-element losses (in double) to the op's output.
Tensor reduce_losses(std::span<const double> losses, const Shape& none_shape, Reduction reduction) {
  if (reduction == Reduction::None) {
    Tensor out = empty(none_shape);
    for (std::size_t i = 0; i < losses.size(); ++i) out.data()[i] = static_cast<float>(losses[i]);
    return out;
  }
  double total = 0.0;
  for (double l : losses) total += l;
  if (reduction == Reduction::Mean) total /= static_cast<double>(losses.size());  // 0 / 0 = NaN, as PyTorch
  return scalar_tensor(static_cast<float>(total));
}

}  // namespace

Tensor detail::fused_cross_entropy(const Tensor& logits, const Labels& labels, Reduction reduction,
                                   float label_smoothing) {
  XGRAD_CHECK(logits.defined(), "cross_entropy: the logits are undefined");
  XGRAD_CHECK(logits.dim() == 2, "cross_entropy: logits must be (N, C), got shape ",
              shape_str(logits.shape()));
  const std::size_t N = logits.size(0), C = logits.size(1);
  XGRAD_CHECK(labels.size() == N, "cross_entropy: ", labels.size(), " labels for logits of shape ",
              shape_str(logits.shape()));
  for (std::size_t n = 0; n < N; ++n) {
    XGRAD_CHECK(labels[n] >= 0 && static_cast<std::size_t>(labels[n]) < C, "cross_entropy: label ", labels[n],
                " at index ", n, " is outside [0, ", C, ") for logits of shape ", shape_str(logits.shape()));
  }
  // The target of row n: (1 - eps) at label_n plus eps / C everywhere (torch's label smoothing), so
  // loss_n = lse_n - (1 - eps) x[n, label_n] - eps / C sum_c x[n, c],
  // lse_n = m + log sum_c exp(x[n, c] - m), m = max_c x[n, c]. Without smoothing, lse_n - x[n, label_n].
  const double eps = label_smoothing, on = 1.0 - eps, off = eps / double(C);
  const float* x = logits.data();
  PoolVector<double> lse(N), losses(N);  // from the storage pool: a training step allocates nothing
  for (std::size_t n = 0; n < N; ++n) {
    const float* row = x + n * C;
    float m = row[0];
    for (std::size_t c = 1; c < C; ++c) m = std::max(m, row[c]);
    double total = 0.0;
    for (std::size_t c = 0; c < C; ++c) total += std::exp(double(row[c]) - m);
    lse[n] = m + std::log(total);
    if (eps == 0.0) {
      losses[n] = lse[n] - row[labels[n]];
    } else {
      double row_sum = 0.0;
      for (std::size_t c = 0; c < C; ++c) row_sum += row[c];
      losses[n] = lse[n] - on * row[labels[n]] - off * row_sum;
    }
  }
  Tensor out = reduce_losses(losses, {N}, reduction);
  if (!needs_grad({logits})) return out;
  // dx[n, c] = w_n (softmax(x)[n, c] - target[n, c]), softmax = exp(x - lse).
  auto backward = [logits, labels = PoolVector<std::int32_t>(labels.begin(), labels.end()), lse = std::move(lse),
                   reduction, on, off](const Tensor& g) {
    const std::size_t N = logits.size(0), C = logits.size(1);
    Tensor dx = empty(logits.shape());
    const float* x = logits.data();
    float* d = dx.data();
    for (std::size_t n = 0; n < N; ++n) {
      const double w = upstream_weight(g, n, N, reduction);
      for (std::size_t c = 0; c < C; ++c) {
        const double p = std::exp(double(x[n * C + c]) - lse[n]);
        const double target = (static_cast<std::size_t>(labels[n]) == c ? on : 0.0) + off;
        d[n * C + c] = static_cast<float>(w * (p - target));
      }
    }
    return TensorList{dx};
  };
  return record(out, "cross_entropy", {logits}, std::move(backward), {logits});
}

Tensor cross_entropy(const Tensor& logits, const Labels& labels, Reduction reduction) {
  return detail::fused_cross_entropy(logits, labels, reduction, 0.0f);
}

Tensor mse_loss(const Tensor& a, const Tensor& b, Reduction reduction) {
  XGRAD_CHECK(a.defined() && b.defined(), "mse_loss: an operand is undefined");
  XGRAD_CHECK(a.shape() == b.shape(), "mse_loss: shapes ", shape_str(a.shape()), " and ",
              shape_str(b.shape()), " must be equal");
  // loss_i = (a_i - b_i)^2
  const std::size_t n = a.numel();
  Tensor diff = empty(a.shape());
  std::vector<double> losses(n);
  for (std::size_t i = 0; i < n; ++i) {
    diff.data()[i] = a.data()[i] - b.data()[i];
    const double e = double(a.data()[i]) - double(b.data()[i]);  // exact: no rounding before the square
    losses[i] = e * e;
  }
  Tensor out = reduce_losses(losses, a.shape(), reduction);
  if (!needs_grad({a, b})) return out;
  // da_i = 2 w_i (a_i - b_i), db_i = -da_i.
  return record(out, "mse_loss", {a, b}, [need_a = a.requires_grad(), need_b = b.requires_grad(), diff,
                                          reduction](const Tensor& g) {
    const std::size_t n = diff.numel();
    Tensor da = empty(diff.shape());
    for (std::size_t i = 0; i < n; ++i) {
      da.data()[i] = 2.0f * upstream_weight(g, i, n, reduction) * diff.data()[i];
    }
    Tensor db;
    if (need_b) {
      db = empty(diff.shape());
      for (std::size_t i = 0; i < n; ++i) db.data()[i] = -da.data()[i];
    }
    return TensorList{need_a ? da : Tensor(), db};
  });
}

}  // namespace xgrad
