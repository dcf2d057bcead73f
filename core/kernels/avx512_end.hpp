// Closes the AVX-512 region opened by avx512_begin.hpp.
#pragma GCC diagnostic pop
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
