// set_num_threads / get_num_threads (core/threads.hpp): OpenMP's count and OpenBLAS's follow it, a bad count
// throws, and a model's outputs do not depend on when the count was set.
#include <omp.h>

#include <catch2/catch.hpp>

#include "xgrad/xgrad.hpp"

extern "C" int openblas_get_num_threads(void);

using namespace xgrad;

// Everything in a namespace of its own: the unit tests are compiled ten files to a translation unit.
namespace threads_test {

// Restores the thread count a test found.
struct RestoreThreads {
  int n = get_num_threads();
  ~RestoreThreads() { set_num_threads(n); }
};

int threads_in_a_region() {
  int seen = 0;
#pragma omp parallel
  {
#pragma omp single
    seen = omp_get_num_threads();
  }
  return seen;
}


TEST_CASE("set_num_threads sets OpenMP's and OpenBLAS's thread count", "[threads]") {
  RestoreThreads restore;
  for (int n : {1, 3, 2}) {
    set_num_threads(n);
    CHECK(get_num_threads() == n);
    CHECK(omp_get_max_threads() == n);
    CHECK(threads_in_a_region() == n);
    CHECK(openblas_get_num_threads() == n);  // the OpenMP flavour of OpenBLAS
  }
}

TEST_CASE("set_num_threads refuses a count below one, changing nothing", "[threads]") {
  RestoreThreads restore;
  set_num_threads(2);
  for (int n : {0, -1}) {
    try {
      set_num_threads(n);
      FAIL("no error for " << n);
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("set_num_threads") && Catch::Contains(std::to_string(n)));
    }
    CHECK(get_num_threads() == 2);
  }
}

TEST_CASE("a matmul large enough to thread gives the same bits after set_num_threads(1) and back", "[threads]") {
  RestoreThreads restore;
  Generator gen(7);
  const Tensor a = randn({96, 80}, gen), b = randn({80, 112}, gen);
  set_num_threads(2);
  const Tensor two = matmul(a, b);
  set_num_threads(1);
  const Tensor one = matmul(a, b);
  set_num_threads(2);
  const Tensor again = matmul(a, b);
  // Each element of a product is one dot product whatever the split (kernels/gemm.cpp), so even the
  // one-thread result is bit-identical; a rerun at the same count certainly is.
  REQUIRE(one.numel() == two.numel());
  for (std::size_t i = 0; i < one.numel(); ++i) {
    REQUIRE(one.data()[i] == two.data()[i]);
    REQUIRE(again.data()[i] == two.data()[i]);
  }
}

}  // namespace threads_test
