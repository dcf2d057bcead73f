// SmallVector (shapes, op input lists) and BackwardFn (an op's closure in the small-object pool): the
// vector interface the library relies on, inline and past the inline capacity, with elements that own
// something (their destructors must run exactly once).
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "xgrad/core/backward_fn.hpp"
#include "xgrad/core/small_vector.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

namespace {
using Owned = std::shared_ptr<int>;
using OwnedList = SmallVector<Owned, 2>;

std::vector<int> values_of(const OwnedList& list) {
  std::vector<int> out;
  for (const Owned& p : list) out.push_back(*p);
  return out;
}
}  // namespace

TEST_CASE("SmallVector keeps std::vector's meaning inline and on the heap", "[small_vector]") {
  for (std::size_t n : {0, 1, 2, 3, 9}) {  // inline capacity 2: 3 and 9 go to the heap
    const Owned tracked = std::make_shared<int>(-1);
    {
      OwnedList list;
      for (std::size_t i = 0; i < n; ++i) list.push_back(std::make_shared<int>(int(i)));
      list.push_back(tracked);
      CHECK(list.size() == n + 1);
      CHECK(tracked.use_count() == 2);
      OwnedList copy = list;
      CHECK(tracked.use_count() == 3);
      OwnedList moved = std::move(copy);
      CHECK(copy.empty());
      CHECK(tracked.use_count() == 3);
      CHECK(values_of(moved) == values_of(list));
      list.insert(list.begin(), std::make_shared<int>(100));
      list.erase(list.end() - 1);
      CHECK(list.front() != nullptr);
      CHECK(*list.front() == 100);
      CHECK(list.size() == n + 1);
      CHECK(tracked.use_count() == 2);  // the copy in `moved` only
      moved = list;
      CHECK(tracked.use_count() == 1);
      moved.resize(1);
      CHECK(moved.size() == 1);
    }
    CHECK(tracked.use_count() == 1);
  }
}

TEST_CASE("Shape converts to and from std::vector and compares like it", "[small_vector]") {
  const std::vector<std::size_t> v{2, 3, 4, 5, 6, 7, 8};  // rank 7: past the inline six
  const Shape s = v;
  CHECK(s.size() == 7);
  CHECK(s == Shape(v.begin(), v.end()));
  const std::vector<std::size_t> back = s;
  CHECK(back == v);
  Shape t{2, 3};
  t.insert(t.begin() + 1, 1);
  CHECK(t == Shape{2, 1, 3});
  t.insert(t.end(), {4, 5});
  CHECK(t == Shape{2, 1, 3, 4, 5});
  t.erase(t.begin(), t.begin() + 2);
  CHECK(t == Shape{3, 4, 5});
  CHECK(Shape{1, 2} < Shape{1, 3});
  CHECK(Shape(3, 1) == Shape{1, 1, 1});
  CHECK(shape_str(s) == "(2, 3, 4, 5, 6, 7, 8)");
  CHECK(zeros(s).numel() == 2 * 3 * 4 * 5 * 6 * 7 * 8);
}

TEST_CASE("BackwardFn destroys its closure once, and takes closures returning a std::vector", "[small_vector]") {
  const Owned tracked = std::make_shared<int>(1);
  {
    BackwardFn f = [tracked](const Tensor& g) { return std::vector<Tensor>{g, g}; };
    CHECK(tracked.use_count() == 2);
    BackwardFn moved = std::move(f);
    CHECK_FALSE(f);
    REQUIRE(moved);
    const TensorList grads = moved(ones({2}));
    CHECK(grads.size() == 2);
    CHECK(tracked.use_count() == 2);
    moved = nullptr;
    CHECK(tracked.use_count() == 1);
  }
  CHECK(tracked.use_count() == 1);
}
