// Conv/BatchNorm folding: see fuse.hpp.
#include "xgrad/models/fuse.hpp"

#include <cmath>
#include <vector>

#include "xgrad/core/error.hpp"
#include "xgrad/core/kernel_args.hpp"
#include "xgrad/layers/activations.hpp"
#include "xgrad/layers/identity.hpp"
#include "xgrad/layers/pooling.hpp"
#include "xgrad/models/residual.hpp"

namespace xgrad {
namespace {

// Checks that bn can be folded into a layer with `channels` outputs. `layer` describes that layer.
void check_foldable(const std::string& layer, std::size_t channels, const BatchNorm& bn, bool want_2d) {
  const bool kind_ok = want_2d ? dynamic_cast<const BatchNorm2d*>(&bn) != nullptr
                               : dynamic_cast<const BatchNorm1d*>(&bn) != nullptr;
  XGRAD_CHECK(kind_ok, "fuse_conv_bn: ", layer, " must be followed by a ", want_2d ? "BatchNorm2d" : "BatchNorm1d",
              ", got ", bn.describe());
  XGRAD_CHECK(static_cast<std::size_t>(bn.options().num_features) == channels, "fuse_conv_bn: ", bn.describe(),
              " expects ", bn.options().num_features, " channels but ", layer, " outputs ", channels);
  XGRAD_CHECK(bn.options().track_running_stats, "fuse_conv_bn: ", bn.describe(),
              " has no running statistics (track_running_stats=false), so its eval output depends on the batch");
  XGRAD_CHECK(!bn.is_training(), "fuse_conv_bn: ", bn.describe(),
              " is in training mode; folding uses the running statistics, call eval() first");
}

// Writes the folded weight and bias into `out_weight` (C, K) and `out_bias` (C), from weight (C, K) and
// bias (C) or undefined; K is everything after the output channel axis.
void fold(Tensor out_weight, Tensor out_bias, const Tensor& weight, const Tensor& bias, const BatchNorm& bn) {
  const std::size_t C = weight.size(0), K = weight.numel() / C;
  const float *w = weight.data(), *mean = bn.running_mean().data(), *var = bn.running_var().data();
  const float* gamma = data_or_null(bn.weight());
  const float* beta = data_or_null(bn.bias());
  const float* b = data_or_null(bias);
  float *ow = out_weight.data(), *ob = out_bias.data();
  const double eps = bn.options().eps;
  // s = gamma / sqrt(var + eps); W' = W s; b' = (b - mean) s + beta
  for (std::size_t c = 0; c < C; ++c) {
    const double s = (gamma ? double(gamma[c]) : 1.0) / std::sqrt(double(var[c]) + eps);
    for (std::size_t k = 0; k < K; ++k) ow[c * K + k] = static_cast<float>(double(w[c * K + k]) * s);
    ob[c] = static_cast<float>(((b ? double(b[c]) : 0.0) - double(mean[c])) * s + (beta ? double(beta[c]) : 0.0));
  }
}

void check_all_eval(const Module& m) {
  XGRAD_CHECK(!m.is_training(), "fuse_conv_bn: ", m.describe(),
              " is in training mode; fusion is for inference, call eval() on the model first");
  for (const auto& [name, child] : m.children()) check_all_eval(*child);
}

std::shared_ptr<Sequential> fuse_sequential(const Sequential& model) {
  auto fused = std::make_shared<Sequential>();
  fused->eval();  // before adding, since adding sets each child's mode to the parent's
  const auto& children = model.children();
  for (std::size_t i = 0; i < children.size(); ++i) {
    const auto& [name, m] = children[i];
    const BatchNorm* bn = i + 1 < children.size() ? dynamic_cast<const BatchNorm*>(children[i + 1].second.get())
                                                  : nullptr;
    std::shared_ptr<Module> replacement;
    if (auto* conv = dynamic_cast<const Conv2d*>(m.get()); conv && bn) {
      replacement = fuse_conv_bn_eval(*conv, *bn);
    } else if (auto* dense = dynamic_cast<const Dense*>(m.get()); dense && bn) {
      replacement = fuse_linear_bn_eval(*dense, *bn);
    } else if (auto* seq = dynamic_cast<const Sequential*>(m.get())) {
      fused->add(name, fuse_sequential(*seq));
      continue;
    } else if (auto* residual = dynamic_cast<const Residual*>(m.get())) {
      fused->add(name, std::make_shared<Residual>(fuse_sequential(*residual->body())));
      continue;
    } else {
      fused->add(name, m);
      continue;
    }
    fused->add(name, replacement);
    // A BatchNorm with a fused ReLU leaves that ReLU behind, and its fused max pool after it.
    std::shared_ptr<Module> rest = std::make_shared<Identity>();
    if (bn->options().fused_max_pool) {
      auto relu_pool = std::make_shared<Sequential>();
      relu_pool->add(std::make_shared<ReLU>());
      relu_pool->add(std::make_shared<MaxPool2d>(2));
      rest = relu_pool;
    } else if (bn->options().fused_relu) {
      rest = std::make_shared<ReLU>();
    }
    fused->add(children[i + 1].first, rest);
    ++i;  // the BatchNorm is consumed
  }
  return fused;
}

}  // namespace

std::shared_ptr<Conv2d> fuse_conv_bn_eval(const Conv2d& conv, const BatchNorm& bn) {
  check_foldable(conv.describe(), static_cast<std::size_t>(conv.options().out_channels), bn, true);
  Conv2dOptions options = conv.options();
  options.bias = true;
  Generator unused(0);  // the constructor's random init is overwritten right away
  auto fused = std::make_shared<Conv2d>(options, unused);
  fold(fused->weight(), fused->bias(), conv.weight(), conv.bias(), bn);
  fused->train(conv.is_training());
  return fused;
}

std::shared_ptr<Dense> fuse_linear_bn_eval(const Dense& dense, const BatchNorm& bn) {
  check_foldable(dense.describe(), static_cast<std::size_t>(dense.options().out_features), bn, false);
  DenseOptions options = dense.options();
  options.bias = true;
  Generator unused(0);
  auto fused = std::make_shared<Dense>(options, unused);
  fold(fused->weight(), fused->bias(), dense.weight(), dense.bias(), bn);
  fused->train(dense.is_training());
  return fused;
}

std::shared_ptr<Sequential> fuse_conv_bn(const Sequential& model) {
  check_all_eval(model);
  return fuse_sequential(model);
}

}  // namespace xgrad
