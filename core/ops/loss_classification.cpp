// Classification losses beyond the fused cross_entropy: nll_loss, cross_entropy with class weights,
// ignore_index and label smoothing, binary cross-entropy (from probabilities and from logits) and
// kl_div. Composed from primitive ops where the composition is exact and stable; binary_cross_entropy
// has its own pointwise backward, torch's, since log's clamp at -100 would give 0 * inf = NaN composed.
#include <algorithm>
#include <cmath>
#include <vector>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/activation.hpp"
#include "xgrad/core/ops/comparison.hpp"
#include "xgrad/core/ops/cross_entropy_fused.hpp"
#include "xgrad/core/ops/elementwise.hpp"
#include "xgrad/core/ops/indexing.hpp"
#include "xgrad/core/ops/loss.hpp"
#include "xgrad/core/ops/loss_reduce.hpp"
#include "xgrad/core/ops/shape_ops.hpp"

namespace xgrad {
namespace {

// Per sample: the label to pick (0 for an ignored one) and its weight (0 for an ignored one).
struct PickedLabels {
  Tensor index;    // (N, 1), for gather
  Tensor weights;  // (N)
  double weight_sum = 0.0;
};

PickedLabels pick_labels(const Tensor& x, const Labels& labels, const CrossEntropyOptions& o, const char* op) {
  XGRAD_CHECK(x.defined(), op, ": the input is undefined");
  XGRAD_CHECK(x.dim() == 2, op, ": input must be (N, C), got shape ", shape_str(x.shape()));
  const std::size_t N = x.size(0), C = x.size(1);
  XGRAD_CHECK(labels.size() == N, op, ": ", labels.size(), " labels for input of shape ", shape_str(x.shape()));
  XGRAD_CHECK(!o.weight.defined() || o.weight.shape() == Shape{C}, op, ": weight of shape ",
              o.weight.defined() ? shape_str(o.weight.shape()) : "", " for ", C, " classes (input ",
              shape_str(x.shape()), ")");
  PickedLabels p{empty({N, 1}), empty({N}), 0.0};
  for (std::size_t n = 0; n < N; ++n) {
    const std::int32_t y = labels[n];
    const bool ignored = y == o.ignore_index;
    XGRAD_CHECK(ignored || (y >= 0 && static_cast<std::size_t>(y) < C), op, ": label ", y, " at index ", n,
                " is outside [0, ", C, ") for input of shape ", shape_str(x.shape()));
    p.index.data()[n] = ignored ? 0.0f : static_cast<float>(y);
    const float w = ignored ? 0.0f : (o.weight.defined() ? o.weight.data()[y] : 1.0f);
    p.weights.data()[n] = w;
    p.weight_sum += w;
  }
  return p;
}

// losses (N) reduced the way nll_loss does: Mean divides by the summed weights of the counted samples.
Tensor reduce_weighted(const Tensor& losses, double weight_sum, Reduction reduction) {
  switch (reduction) {
    case Reduction::Mean: return sum(losses) / static_cast<float>(weight_sum);  // all ignored: 0 / 0 = NaN, as torch
    case Reduction::Sum: return sum(losses);
    case Reduction::None: return losses;
  }
  return losses;
}

Tensor nll(const Tensor& log_probs, const Labels& labels, const CrossEntropyOptions& o, const char* op) {
  const PickedLabels p = pick_labels(log_probs, labels, o, op);
  // loss_n = -w_n log_probs[n, label_n]
  const Tensor picked = reshape(gather(log_probs, 1, p.index), Shape{labels.size()});
  return reduce_weighted(-(picked * p.weights), p.weight_sum, o.reduction);
}

}  // namespace

Tensor nll_loss(const Tensor& log_probs, const Labels& labels, const CrossEntropyOptions& options) {
  return nll(log_probs, labels, options, "nll_loss");
}

Tensor cross_entropy(const Tensor& logits, const Labels& labels, const CrossEntropyOptions& o) {
  XGRAD_CHECK(o.label_smoothing >= 0.0f && o.label_smoothing <= 1.0f, "cross_entropy: label_smoothing ",
              o.label_smoothing, " is outside [0, 1]");
  const bool plain = !o.weight.defined() && std::find(labels.begin(), labels.end(), o.ignore_index) == labels.end();
  if (plain) return detail::fused_cross_entropy(logits, labels, o.reduction, o.label_smoothing);
  const Tensor log_probs = log_softmax(logits, 1);
  const Tensor loss = nll(log_probs, labels, o, "cross_entropy");
  if (o.label_smoothing == 0.0f) return loss;
  // torch: (1 - eps) nll + eps / C * smooth, smooth_n = -sum_c w_c log_probs[n, c] (0 where ignored),
  // reduced like nll (Mean divides by the same summed weights of the counted labels).
  const PickedLabels p = pick_labels(logits, labels, o, "cross_entropy");
  const Tensor weighted = o.weight.defined() ? log_probs * o.weight.detach() : log_probs;
  Tensor counted = empty({labels.size()});
  double count = 0.0;
  for (std::size_t n = 0; n < labels.size(); ++n) {
    counted.data()[n] = labels[n] == o.ignore_index ? 0.0f : 1.0f;
    count += counted.data()[n];
  }
  const Tensor smooth = -(sum(weighted, {1}) * counted);
  const double divisor = o.weight.defined() ? p.weight_sum : count;
  const float C = static_cast<float>(logits.size(1));
  return loss * (1.0f - o.label_smoothing) + reduce_weighted(smooth, divisor, o.reduction) * (o.label_smoothing / C);
}

namespace {

// Broadcasting `weight` onto x's shape must not grow x.
void check_weight(const Tensor& x, const Tensor& weight, const char* op, const char* name) {
  if (!weight.defined()) return;
  XGRAD_CHECK(broadcast_shapes(x.shape(), weight.shape(), op) == x.shape(), op, ": ", name, " of shape ",
              shape_str(weight.shape()), " does not broadcast to the input's shape ", shape_str(x.shape()));
}

void check_same_shape(const Tensor& x, const Tensor& t, const char* op) {
  XGRAD_CHECK(x.defined() && t.defined(), op, ": an operand is undefined");
  XGRAD_CHECK(x.shape() == t.shape(), op, ": input of shape ", shape_str(x.shape()), " and target of shape ",
              shape_str(t.shape()), " must be equal");
}

}  // namespace

Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets, const Tensor& weight, Reduction reduction) {
  const char* op = "binary_cross_entropy";
  check_same_shape(probs, targets, op);
  check_weight(probs, weight, op, "weight");
  const std::size_t n = probs.numel();
  const float *p = probs.data(), *t = targets.data();
  for (std::size_t i = 0; i < n; ++i) {
    XGRAD_CHECK(p[i] >= 0.0f && p[i] <= 1.0f, op, ": input ", p[i], " at index ", i,
                " is not a probability in [0, 1] (use binary_cross_entropy_with_logits for logits)");
  }
  // l_i = -(t_i max(log p_i, -100) + (1 - t_i) max(log(1 - p_i), -100)), in double.
  Tensor losses = empty(probs.shape());
  for (std::size_t i = 0; i < n; ++i) {
    const double lp = std::max(std::log(double(p[i])), -100.0), lq = std::max(std::log1p(-double(p[i])), -100.0);
    losses.data()[i] = static_cast<float>(-(t[i] * lp + (1.0 - t[i]) * lq));
  }
  // dp = g (p - t) / max(p (1 - p), 1e-12)  (torch's);  dt = -g (max(log p, -100) - max(log(1 - p), -100))
  losses = record(losses, op, {probs, targets}, [probs, targets](const Tensor& g) {
    const std::size_t n = g.numel();
    Tensor dp = empty(probs.shape()), dt = empty(probs.shape());
    const float *p = probs.data(), *t = targets.data(), *gv = g.data();
    for (std::size_t i = 0; i < n; ++i) {
      const double pi = p[i];
      dp.data()[i] = static_cast<float>(gv[i] * (pi - t[i]) / std::max(pi * (1.0 - pi), 1e-12));
      const double lp = std::max(std::log(pi), -100.0), lq = std::max(std::log1p(-pi), -100.0);
      dt.data()[i] = static_cast<float>(-gv[i] * (lp - lq));
    }
    return TensorList{dp, dt};
  }, {probs, targets});
  return detail::reduce_loss(weight.defined() ? losses * weight : losses, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction reduction) {
  const char* op = "binary_cross_entropy_with_logits";
  check_same_shape(logits, targets, op);
  check_weight(logits, weight, op, "weight");
  check_weight(logits, pos_weight, op, "pos_weight");
  // l = (1 - t) x + (1 + (pw - 1) t) softplus(-x), since -log sigmoid(x) = softplus(-x) and
  // -log(1 - sigmoid(x)) = x + softplus(-x). softplus never overflows.
  const Tensor sp = softplus(-logits);
  const Tensor scale = pos_weight.defined() ? 1.0f + (pos_weight - 1.0f) * targets : Tensor();
  Tensor losses = (1.0f - targets) * logits + (scale.defined() ? scale * sp : sp);
  return detail::reduce_loss(weight.defined() ? losses * weight : losses, reduction);
}

Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target) {
  const char* op = "kl_div";
  check_same_shape(input, target, op);
  if (log_target) return detail::reduce_loss(exp(target) * (target - input), reduction);
  const float* t = target.data();
  for (std::size_t i = 0; i < target.numel(); ++i) {
    XGRAD_CHECK(t[i] >= 0.0f, op, ": target ", t[i], " at index ", i, " is negative (a probability is expected; "
                "pass log_target = true for log-probabilities)");
  }
  // t (log t - input), and 0 where t = 0 (t log t -> 0): log is taken of 1 there so no inf enters the graph.
  const Tensor positive = gt(target.detach(), 0.0f);
  const Tensor safe = where(positive, target, 1.0f);
  return detail::reduce_loss(where(positive, target * (log(safe) - input), 0.0f), reduction);
}

}  // namespace xgrad
