// The library's thread count, torch.set_num_threads / torch.get_num_threads: how many OpenMP threads the
// kernels' parallel loops use. Not a thread pool of its own: xgrad's parallelism is OpenMP's.
#pragma once

namespace xgrad {

// Sets the number of threads later parallel work uses (OpenMP's nthreads-var, as OMP_NUM_THREADS does
// at start-up). OpenBLAS is the OpenMP flavour and follows: it is told the same count. Like
// omp_set_num_threads it applies to the calling thread (the one that trains) and to the threads its
// parallel regions start. Same count, same data, same seed: bit-identical results; a different count may
// change the last bits of a few reductions. Throws xgrad::Error if n < 1.
void set_num_threads(int n);
// The count parallel work started from this thread will use (omp_get_max_threads()).
int get_num_threads();

}  // namespace xgrad
