// The library's own limits: a shape whose element count overflows is refused (it used to wrap to 0 and
// crash later), an allocation that fails names the shape and size, an optimizer refuses one tensor under
// two names, and divergence without a NaN is recognized.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <string>

#include "examples/common/training.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/tensor.hpp"
#include "xgrad/optim/sgd.hpp"

using namespace xgrad;

TEST_CASE("shapes whose element count overflows are refused", "[reliability][library]") {
  const std::size_t big = std::size_t{1} << 32;
  CHECK_THROWS_WITH(numel({big, big, 2}), Catch::Contains("numel: the shape (4294967296, 4294967296, 2) has more "
                                                          "elements than memory can address"));
  CHECK_THROWS_AS(zeros({big, big, 2}), Error);
  CHECK_THROWS_WITH(empty({big, big / 2}), Catch::Contains("needs more bytes than memory can address"));
  CHECK(numel({big, big, 0}) == 0);  // an empty axis: empty, whatever the others
}

TEST_CASE("an allocation that fails is an xgrad::Error naming the shape and the bytes", "[reliability][library]") {
  int overcommit = 0;
  std::ifstream("/proc/sys/vm/overcommit_memory") >> overcommit;
  if (overcommit == 1) {
    WARN("skipped: vm.overcommit_memory = 1 grants any allocation, so none fails");
    return;
  }
  CHECK_THROWS_WITH(empty({std::size_t{1} << 46}),
                    Catch::Contains("Tensor: out of memory allocating 281474976710656 bytes for a tensor of shape "
                                    "(70368744177664)"));
}

TEST_CASE("an optimizer refuses one tensor listed under two names", "[reliability][library]") {
  Tensor w = zeros({3});
  w.set_requires_grad(true);
  CHECK_THROWS_WITH(SGD(std::vector<NamedTensor>{{"a", w}, {"b", w}}, SGDOptions{.lr = 0.1}),
                    Catch::Contains("SGD: parameters 'a' and 'b' are the same tensor"));
}

TEST_CASE("divergence without a NaN: a loss far above the start, or chance accuracy", "[reliability][library]") {
  using xgrad::examples::divergence;
  CHECK(divergence(1e7, 0.5, 2.3).find("the training loss 1e+07 is more than 10 times the first step's 2.3") !=
        std::string::npos);
  CHECK(divergence(2.0, 0.1, 2.3).find("no better than chance") != std::string::npos);
  CHECK(divergence(0.3, 0.9, 2.3).empty());
  CHECK(divergence(30, 0.9, std::nan("")).empty());  // no first step yet: nothing to compare with
}
