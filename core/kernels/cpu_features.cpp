// Kernel path selection: see cpu_features.hpp.
#include "xgrad/core/kernels/cpu_features.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace xgrad::kernels {
namespace {

bool detect_avx512() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

bool initially_enabled() {
  const char* env = std::getenv("XGRAD_KERNELS");
  return !(env && std::strcmp(env, "reference") == 0);
}

std::atomic<bool>& enabled() {
  static std::atomic<bool> on{initially_enabled()};
  return on;
}

}  // namespace

bool cpu_has_avx512() {
  static const bool has = detect_avx512();
  return has;
}

bool fast_paths_enabled() { return cpu_has_avx512() && enabled().load(std::memory_order_relaxed); }

void set_fast_paths_enabled(bool on) { enabled().store(on, std::memory_order_relaxed); }

}  // namespace xgrad::kernels
