// The networks the examples, tests and benchmarks share, built so that the variants of one network
// (with or without a normalization) start from the same weights: each layer draws its initial values from
// its own generator, seeded by (seed, layer index), so removing a BN layer changes no other layer's draw.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "xgrad/models/sequential.hpp"

namespace xgrad {

enum class Normalization { None, Batch, Layer, Group };

Normalization parse_normalization(const std::string& name);  // "none", "batch", "layer", "group"
std::string to_string(Normalization norm);

// The reference MNIST network, input (N, 1, 28, 28):
// Conv(1->16, 3, pad 1)-Norm-ReLU-MaxPool(2), Conv(16->32, 3, pad 1)-Norm-ReLU-MaxPool(2), Flatten,
// Dense(1568->128)-Norm-ReLU, Dense(128->10). Norm is BatchNorm2d/1d, LayerNorm over (C, H, W) / (128),
// GroupNorm with 4 groups, or nothing (then the conv and dense layers before it get a bias).
// With BatchNorm, each ReLU runs fused into the BatchNorm before it (BatchNormOptions::fused_relu), and so
// does each MaxPool2d(2) after such a ReLU (fused_max_pool), in this network and the CIFAR ones below; an
// Identity holds the place of each, so names and positions are the same for every Norm and checkpoints
// saved before the fusion load unchanged.
std::shared_ptr<Sequential> mnist_cnn(Normalization norm, std::uint64_t seed);

// Ioffe & Szegedy's MNIST experiment: 784-100-100-100-10, sigmoid hidden units, optionally BN before
// each sigmoid. Input (N, 1, 28, 28) or (N, 784).
std::shared_ptr<Sequential> ioffe_szegedy_mlp(bool batch_norm, std::uint64_t seed);

// A small CIFAR-10 network, input (N, 3, 32, 32): three Conv-Norm-ReLU blocks (32, 64, 128 channels),
// each followed by MaxPool(2), then global average pooling and Dense(128->10).
std::shared_ptr<Sequential> cifar_cnn(Normalization norm, std::uint64_t seed);

// The fast CIFAR-10 "ResNet-9" shape, input (N, 3, 32, 32): Conv(3->64)-Norm-ReLU, then three stages at 64,
// 128 and 256 channels, each Conv-Norm-ReLU + MaxPool(2) followed by a Residual of two Conv-Norm-ReLU
// (3x3, padding 1), then global average pooling (AvgPool(4) over the 4x4 map), Flatten and Dense(256->10).
// About 0.31 GFLOP per image forward.
std::shared_ptr<Sequential> resnet9(Normalization norm, std::uint64_t seed);

}  // namespace xgrad
