// Counting a network's FLOPs and measuring the machine's peak: see flops.hpp.
#include "bench/flops.hpp"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>

#include "bench/bench_util.hpp"
#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/layers/conv2d.hpp"
#include "xgrad/layers/dense.hpp"
#include "xgrad/layers/flatten.hpp"
#include "xgrad/layers/pooling.hpp"
#include "xgrad/models/residual.hpp"

namespace xgrad::bench {
namespace {

struct Walk {
  std::size_t C, H, W;
  double forward = 0;
  double first_layer = -1;  // the first conv/dense's forward FLOPs: its input needs no gradient

  void add(double flops) {
    if (first_layer < 0) first_layer = flops;
    forward += flops;
  }

  void visit(const Module& m) {
    if (auto* seq = dynamic_cast<const Sequential*>(&m)) {
      for (const auto& [name, child] : seq->children()) visit(*child);
    } else if (auto* residual = dynamic_cast<const Residual*>(&m)) {
      visit(*residual->body());
    } else if (auto* conv = dynamic_cast<const Conv2d*>(&m)) {
      const Conv2dOptions& o = conv->options();
      const Size2 pad = conv->padding();
      const auto out = [](std::size_t in, int k, int s, int p, int d) {
        return (in + 2 * std::size_t(p) - std::size_t(d) * (k - 1) - 1) / std::size_t(s) + 1;
      };
      H = out(H, o.kernel_size.h, o.stride.h, pad.h, o.dilation.h);
      W = out(W, o.kernel_size.w, o.stride.w, pad.w, o.dilation.w);
      C = std::size_t(o.out_channels);
      add(2.0 * double(conv->weight().numel()) * double(H * W));
    } else if (auto* pool = dynamic_cast<const Pool2d*>(&m)) {
      const Size2 k = pool->options().kernel_size, p = pool->options().padding;
      const Size2 s = pool->options().stride.value_or(k);
      H = (H + 2 * std::size_t(p.h) - std::size_t(k.h)) / std::size_t(s.h) + 1;
      W = (W + 2 * std::size_t(p.w) - std::size_t(k.w)) / std::size_t(s.w) + 1;
    } else if (auto* bn = dynamic_cast<const BatchNorm*>(&m); bn && bn->options().fused_max_pool) {
      H /= 2;  // the 2x2 max pool it runs inside its op (the pool's place holds an Identity)
      W /= 2;
    } else if (dynamic_cast<const Flatten*>(&m)) {
      C *= H * W;
      H = W = 1;
    } else if (auto* dense = dynamic_cast<const Dense*>(&m)) {
      C = std::size_t(dense->options().out_features);
      add(2.0 * double(dense->options().in_features) * double(C));
    }
  }
};

// `chains` independent accumulators hide the FMA latency on both FMA ports; 16 or 8 floats per vector.
__attribute__((target("avx512f"))) float fma_chains_avx512(long iterations) {
  __m512 acc[12];
  for (int j = 0; j < 12; ++j) acc[j] = _mm512_set1_ps(float(j));
  const __m512 a = _mm512_set1_ps(0.9999999f), b = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i) {
    for (int j = 0; j < 12; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
  }
  __m512 sum = acc[0];
  for (int j = 1; j < 12; ++j) sum = _mm512_add_ps(sum, acc[j]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) float fma_chains_avx2(long iterations) {
  __m256 acc[12];
  for (int j = 0; j < 12; ++j) acc[j] = _mm256_set1_ps(float(j));
  const __m256 a = _mm256_set1_ps(0.9999999f), b = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i) {
    for (int j = 0; j < 12; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  }
  float out[8];
  __m256 sum = acc[0];
  for (int j = 1; j < 12; ++j) sum = _mm256_add_ps(sum, acc[j]);
  _mm256_storeu_ps(out, sum);
  return out[0] + out[7];
}

}  // namespace

NetworkFlops count_flops(const Sequential& model, std::size_t C, std::size_t H, std::size_t W) {
  Walk walk{C, H, W};
  walk.visit(model);
  return {walk.forward, 3 * walk.forward - std::max(0.0, walk.first_layer)};
}

double measure_peak_flops(int threads) {
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const double flops_per_iteration = 12.0 * (avx512 ? 16 : 8) * 2;
  const long iterations = 20'000'000;  // ~0.1 s per thread at a few GHz
  volatile float sink = 0;
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    const double t0 = now_seconds();
#pragma omp parallel num_threads(threads)
    {
      const float r = avx512 ? fma_chains_avx512(iterations) : fma_chains_avx2(iterations);
#pragma omp critical
      sink = sink + r;
    }
    const double seconds = now_seconds() - t0;
    best = std::max(best, double(threads) * double(iterations) * flops_per_iteration / seconds);
  }
  return best;
}

}  // namespace xgrad::bench
