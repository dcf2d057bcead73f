// What a step of a network costs in floating-point operations, and what the machine can do: the FLOPs of
// the convolutions and dense layers (2 per multiply-add; the memory-bound layers are not counted, as is
// usual), and the fp32 peak measured by a fused multiply-add loop in this process.
#pragma once
#include <cstdint>

#include "xgrad/models/sequential.hpp"

namespace xgrad::bench {

struct NetworkFlops {
  double forward = 0;   // per image
  double training = 0;  // per image: forward, input and weight gradients (the first layer has no input gradient)
};

// Walks `model` (Sequential, Residual, Conv2d, Dense, pooling, Flatten; shape-keeping layers pass through)
// from an input of one image of shape (C, H, W).
NetworkFlops count_flops(const Sequential& model, std::size_t C, std::size_t H, std::size_t W);

// fp32 FLOP/s of `threads` threads running independent FMA chains (AVX-512 where the CPU has it, else
// AVX2), best of a few short runs: the ceiling the training step's share is measured against.
double measure_peak_flops(int threads);

}  // namespace xgrad::bench
