// Which kernel paths may run: the AVX-512 fast paths (direct convolution, pooling, batch norm) when the
// CPU has AVX-512 F/BW/DQ/VL, else the portable reference paths that any x86-64 runs. Tests switch the
// fast paths off to compare both on the same inputs; XGRAD_KERNELS=reference in the environment does the
// same for a whole run (to time or debug the reference paths).
#pragma once

namespace xgrad::kernels {

bool cpu_has_avx512();        // what the CPU offers
bool fast_paths_enabled();    // cpu_has_avx512() and not switched off
void set_fast_paths_enabled(bool on);  // on takes effect only where the CPU has AVX-512

}  // namespace xgrad::kernels
