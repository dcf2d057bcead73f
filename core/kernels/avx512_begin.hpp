// Opens the region of a kernel file compiled for AVX-512; avx512_end.hpp closes it. Between the two,
// every function (templates, lambdas and the tiles of avx512_tiles.hpp included there) may use AVX-512
// intrinsics, and is called only after cpu_features.hpp says the CPU has them. The body of an OpenMP
// region is a function of the compiler's making that clang does not mark: keep vectors out of it and
// call a function of this region per iteration instead. GCC takes a target pragma,
// clang an attribute applied to each function. Fused multiply-adds are written out where wanted: the
// compilers' own contraction of a * b + c stays off, so results do not depend on the compiler.
// No include guard: each kernel file includes the pair once.
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi,bmi2"))), \
                             apply_to = function)
#pragma clang fp contract(off)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi,bmi2")
#pragma GCC optimize("fp-contract=off")
#endif
// GCC 12 flags the deliberately undefined upper lanes inside _mm512_reduce_add_ps/pd.
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
