// The shared reference networks: see reference_networks.hpp.
#include "xgrad/models/reference_networks.hpp"

#include "xgrad/core/error.hpp"
#include "xgrad/layers/activations.hpp"
#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/layers/conv2d.hpp"
#include "xgrad/layers/dense.hpp"
#include "xgrad/layers/flatten.hpp"
#include "xgrad/layers/group_norm.hpp"
#include "xgrad/layers/identity.hpp"
#include "xgrad/layers/layer_norm.hpp"
#include "xgrad/layers/pooling.hpp"
#include "xgrad/models/residual.hpp"

namespace xgrad {
namespace {

// The ReLU after `norm`, or the Identity that holds its place (names and positions stay those of the
// unfused network, so checkpoints keep their keys) when a BatchNorm has fused it.
std::shared_ptr<Module> make_relu(Normalization norm) {
  if (norm == Normalization::Batch) return std::make_shared<Identity>();
  return std::make_shared<ReLU>();
}

// Layer k of a network draws from its own stream, so variants of a network share their weights.
Generator layer_generator(std::uint64_t seed, std::uint64_t k) { return Generator(seed * 1000003ULL + k); }

// The normalization after a layer with `channels` outputs; `spatial` is (H, W) for a conv, {} for dense.
// A BatchNorm takes the ReLU that follows it into its op (fused_relu), and the MaxPool2d(2) after that
// when `pooled` (fused_max_pool).
std::shared_ptr<Module> make_norm(Normalization norm, int channels, const Shape& spatial, bool pooled) {
  switch (norm) {
    case Normalization::Batch: {
      BatchNormOptions options(channels);
      options.fused_relu = true;
      options.fused_max_pool = pooled;
      if (spatial.empty()) return std::make_shared<BatchNorm1d>(options);
      return std::make_shared<BatchNorm2d>(options);
    }
    case Normalization::Layer: {
      Shape shape{static_cast<std::size_t>(channels)};
      shape.insert(shape.end(), spatial.begin(), spatial.end());
      return std::make_shared<LayerNorm>(shape);
    }
    case Normalization::Group:
      return std::make_shared<GroupNorm>(4, channels);
    case Normalization::None:
      break;
  }
  return nullptr;
}

// Conv(3x3, padding 1)-Norm-ReLU, the conv drawing from layer k's stream; `pooled` when a MaxPool2d(2)
// follows.
void add_conv_norm_relu(Sequential& net, int in, int out, Normalization norm, Size2 spatial, std::uint64_t seed,
                        std::uint64_t k, bool pooled = false) {
  Generator gen = layer_generator(seed, k);
  net.add(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = in, .out_channels = out, .kernel_size = 3,
                                                 .padding = 1, .bias = norm == Normalization::None},
                                   gen));
  if (auto m = make_norm(norm, out, {std::size_t(spatial.h), std::size_t(spatial.w)}, pooled)) net.add(m);
  net.add(make_relu(norm));
}

void add_conv_block(Sequential& net, int in, int out, Normalization norm, Size2 spatial, std::uint64_t seed,
                    std::uint64_t k) {
  add_conv_norm_relu(net, in, out, norm, spatial, seed, k, true);
  // With BatchNorm the pool runs inside its op, and an Identity holds the pool's place (as the ReLU's).
  if (norm == Normalization::Batch) net.add(std::make_shared<Identity>());
  else net.add(std::make_shared<MaxPool2d>(2));
}

}  // namespace

Normalization parse_normalization(const std::string& name) {
  if (name == "none") return Normalization::None;
  if (name == "batch") return Normalization::Batch;
  if (name == "layer") return Normalization::Layer;
  if (name == "group") return Normalization::Group;
  detail::fail("parse_normalization: '", name, "' is not one of none, batch, layer, group");
}

std::string to_string(Normalization norm) {
  switch (norm) {
    case Normalization::None: return "none";
    case Normalization::Batch: return "batch";
    case Normalization::Layer: return "layer";
    case Normalization::Group: return "group";
  }
  return "?";
}

std::shared_ptr<Sequential> mnist_cnn(Normalization norm, std::uint64_t seed) {
  auto net = std::make_shared<Sequential>();
  add_conv_block(*net, 1, 16, norm, {28, 28}, seed, 0);
  add_conv_block(*net, 16, 32, norm, {14, 14}, seed, 1);
  net->add(std::make_shared<Flatten>());
  Generator g2 = layer_generator(seed, 2);
  net->add(std::make_shared<Dense>(32 * 7 * 7, 128, g2, norm == Normalization::None));
  if (auto m = make_norm(norm, 128, {}, false)) net->add(m);
  net->add(make_relu(norm));
  Generator g3 = layer_generator(seed, 3);
  net->add(std::make_shared<Dense>(128, 10, g3));
  return net;
}

std::shared_ptr<Sequential> ioffe_szegedy_mlp(bool batch_norm, std::uint64_t seed) {
  auto net = std::make_shared<Sequential>();
  net->add(std::make_shared<Flatten>());
  int in = 28 * 28;
  for (std::uint64_t k = 0; k < 3; ++k) {
    Generator gen = layer_generator(seed, k);
    net->add(std::make_shared<Dense>(in, 100, gen, !batch_norm));
    if (batch_norm) net->add(std::make_shared<BatchNorm1d>(100));
    net->add(std::make_shared<Sigmoid>());
    in = 100;
  }
  Generator gen = layer_generator(seed, 3);
  net->add(std::make_shared<Dense>(100, 10, gen));
  return net;
}

std::shared_ptr<Sequential> cifar_cnn(Normalization norm, std::uint64_t seed) {
  auto net = std::make_shared<Sequential>();
  add_conv_block(*net, 3, 32, norm, {32, 32}, seed, 0);
  add_conv_block(*net, 32, 64, norm, {16, 16}, seed, 1);
  add_conv_block(*net, 64, 128, norm, {8, 8}, seed, 2);
  net->add(std::make_shared<AvgPool2d>(4));
  net->add(std::make_shared<Flatten>());
  Generator gen = layer_generator(seed, 3);
  net->add(std::make_shared<Dense>(128, 10, gen));
  return net;
}

std::shared_ptr<Sequential> resnet9(Normalization norm, std::uint64_t seed) {
  auto net = std::make_shared<Sequential>();
  add_conv_norm_relu(*net, 3, 64, norm, {32, 32}, seed, 0);
  // Stage s: Conv(in->out)-Norm-ReLU at `size`, MaxPool(2), then Residual(two Conv-Norm-ReLU at size / 2).
  int in = 64, size = 32;
  std::uint64_t k = 1;
  for (int out : {64, 128, 256}) {
    add_conv_block(*net, in, out, norm, {size, size}, seed, k++);
    size /= 2;
    auto body = std::make_shared<Sequential>();
    add_conv_norm_relu(*body, out, out, norm, {size, size}, seed, k++);
    add_conv_norm_relu(*body, out, out, norm, {size, size}, seed, k++);
    net->add(std::make_shared<Residual>(body));
    in = out;
  }
  net->add(std::make_shared<AvgPool2d>(size));  // (N, 256, 4, 4) -> (N, 256, 1, 1)
  net->add(std::make_shared<Flatten>());
  Generator gen = layer_generator(seed, k);
  net->add(std::make_shared<Dense>(256, 10, gen));
  return net;
}

}  // namespace xgrad
