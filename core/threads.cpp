// set_num_threads / get_num_threads: see threads.hpp.
#include "xgrad/core/threads.hpp"

#include <omp.h>

#include "xgrad/core/error.hpp"

// OpenBLAS's own setter (declared here rather than through cblas.h, which only kernels/gemm.cpp includes).
// In the OpenMP flavour xgrad links it also calls omp_set_num_threads.
extern "C" void openblas_set_num_threads(int num_threads);

namespace xgrad {

void set_num_threads(int n) {
  XGRAD_CHECK(n >= 1, "set_num_threads: the thread count must be >= 1, got ", n);
  openblas_set_num_threads(n);
  omp_set_num_threads(n);  // in case OpenBLAS capped n at the cores it was built for
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace xgrad
