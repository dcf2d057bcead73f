// Kernel selection: see dispatch.hpp. Each rule is the twin's domain, then the switch.
#include "xgrad/core/kernels/dispatch.hpp"

#include <cstdint>

#include "xgrad/core/kernels/conv2d.hpp"
#include "xgrad/core/kernels/cpu_features.hpp"
#include "xgrad/core/kernels/pool2d.hpp"

namespace xgrad::kernels {
namespace {

KernelPath avx512_if(bool handled) {
  return handled && fast_paths_enabled() ? KernelPath::Avx512 : KernelPath::Reference;
}

}  // namespace

KernelPath conv2d_path(const Conv2dDims& d) {
  return avx512_if(d.SH == 1 && d.SW == 1 && d.DH == 1 && d.DW == 1 && d.PH < d.KH && d.PW < d.KW && d.N > 0 &&
                   d.C > 0 && d.O > 0);
}

KernelPath batch_norm_path(std::size_t N, std::size_t HW) { return avx512_if(N * HW > 0); }

KernelPath batch_norm_max_pool_path(std::size_t N, std::size_t H, std::size_t W) {
  return avx512_if(N * H * W > 0 && W <= kBatchNormMaxPoolMaxWidth);
}

KernelPath max_pool2d_path(const Pool2dDims& d) {
  return avx512_if(d.KH == 2 && d.KW == 2 && d.SH == 2 && d.SW == 2 && d.PH == 0 && d.PW == 0);
}

KernelPath gemm_path(bool trans_a, bool trans_b, int M, int N, int K, float alpha, float beta) {
  constexpr std::int64_t kAvx512From = std::int64_t(1) << 16;
  return avx512_if(alpha == 1.0f && beta == 0.0f && !(trans_a && trans_b) &&
                   std::int64_t(M) * N * K >= kAvx512From);
}

}  // namespace xgrad::kernels
