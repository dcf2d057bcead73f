// The Dataset interface: a user's dataset through the DataLoader (float and label targets, shuffling,
// drop_last, sharding), TensorDataset with float targets, to_labels, and the errors of a dataset whose
// samples disagree.
#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <numeric>
#include <vector>

#include "xgrad/data/data_loader.hpp"
#include "xgrad/data/tensor_dataset.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using Catch::Matchers::Contains;

namespace {

// Sample i: input (2) = (i, -i), target () = i * i; with `labels`, label i % 4 instead of the target.
struct Squares : Dataset {
  std::size_t n;
  bool labels;
  Squares(std::size_t n, bool labels = false) : n(n), labels(labels) {}
  std::size_t size() const override { return n; }
  Sample get(std::size_t i) const override {
    const float x = static_cast<float>(i);
    if (labels) return {Tensor{x, -x}, Tensor(), static_cast<std::int32_t>(i % 4)};
    return {Tensor{x, -x}, scalar_tensor(x * x)};
  }
};

// Sample i's index, read back from a batch row of Squares.
std::vector<std::size_t> ids(const Batch& b) {
  std::vector<std::size_t> out;
  for (std::size_t r = 0; r < b.size(); ++r) out.push_back(static_cast<std::size_t>(b.inputs.at({r, 0})));
  return out;
}

}  // namespace

TEST_CASE("Dataset: a user's dataset with float targets, batched and shuffled", "[data][dataset]") {
  DataLoader loader(std::make_shared<Squares>(10), {.batch_size = 4, .shuffle = true, .seed = 5});
  REQUIRE(loader.size() == 3);
  std::vector<std::size_t> seen;
  for (const Batch& b : loader) {
    CHECK(b.labels.empty());
    REQUIRE(b.targets.shape() == Shape{b.size()});
    CHECK(b.inputs.shape() == Shape{b.size(), 2});
    for (std::size_t r = 0; r < b.size(); ++r) {
      const float x = b.inputs.at({r, 0});
      CHECK(b.inputs.at({r, 1}) == -x);
      CHECK(b.targets.at({r}) == x * x);
    }
    const auto batch = ids(b);
    seen.insert(seen.end(), batch.begin(), batch.end());
  }
  CHECK(seen == loader.order());
  std::vector<std::size_t> sorted = seen, all(10);
  std::sort(sorted.begin(), sorted.end());
  std::iota(all.begin(), all.end(), std::size_t{0});
  CHECK(sorted == all);
  CHECK(seen != all);  // shuffled (seed 5 does move something)

  DataLoader dropping(Squares(10, true), {.batch_size = 4, .drop_last = true});
  std::vector<std::vector<std::size_t>> batches;
  for (const Batch& b : dropping) {
    CHECK_FALSE(b.targets.defined());
    CHECK(b.labels.size() == b.size());
    for (std::size_t r = 0; r < b.size(); ++r) CHECK(b.labels[r] == static_cast<std::int32_t>(ids(b)[r] % 4));
    batches.push_back(ids(b));
  }
  CHECK(batches == std::vector<std::vector<std::size_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}});
}

TEST_CASE("Dataset: sharded over replicas like a TensorDataset", "[data][dataset][distributed]") {
  DataLoader whole(Squares(23), {.batch_size = 6, .shuffle = true, .seed = 2});
  DataLoader r0(Squares(23), {.batch_size = 3, .shuffle = true, .seed = 2, .num_replicas = 2, .rank = 0});
  DataLoader r1(Squares(23), {.batch_size = 3, .shuffle = true, .seed = 2, .num_replicas = 2, .rank = 1});
  auto a = r0.begin(), b = r1.begin();
  for (const Batch& w : whole) {
    std::vector<std::size_t> joined = ids(*a);
    const auto second = ids(*b);
    joined.insert(joined.end(), second.begin(), second.end());
    CHECK(joined == ids(w));
    ++a;
    ++b;
  }
  CHECK(a == std::default_sentinel);
  CHECK(b == std::default_sentinel);
}

TEST_CASE("TensorDataset with float targets: get, collate, subset and checks", "[data][dataset]") {
  const Tensor X = from_vector({0, 1, 2, 3, 4, 5, 6, 7}, {4, 2});
  const Tensor Y = from_vector({10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21}, {4, 3});
  TensorDataset d(X, Y);
  CHECK_FALSE(d.has_labels());
  CHECK(d.size() == 4);
  const Sample s = d.get(2);
  CHECK(s.input.to_vector() == std::vector<float>{4, 5});
  CHECK(s.target.shape() == Shape{3});
  CHECK(s.target.to_vector() == std::vector<float>{16, 17, 18});
  CHECK(s.label == -1);

  DataLoader loader(d, {.batch_size = 3});
  auto it = loader.begin();
  CHECK(it->targets.shape() == Shape{3, 3});
  CHECK(it->targets.to_vector() == std::vector<float>{10, 11, 12, 13, 14, 15, 16, 17, 18});
  ++it;
  CHECK(it->inputs.to_vector() == std::vector<float>{6, 7});
  CHECK(it->targets.to_vector() == std::vector<float>{19, 20, 21});

  const TensorDataset part = d.subset(1, 3);
  CHECK(part.targets().to_vector() == std::vector<float>{13, 14, 15, 16, 17, 18});
  // Targets of shape (N): one scalar per sample.
  const TensorDataset flat(X, from_vector({1, 2, 3, 4}, {4}));
  CHECK(flat.get(3).target.shape() == Shape{});
  CHECK(flat.get(3).target.item() == 4.0f);
  // Labels from the same class of get().
  const TensorDataset labelled(X, {3, 0, 1, 2});
  CHECK(labelled.get(0).label == 3);
  CHECK_FALSE(labelled.get(0).target.defined());

  CHECK_THROWS_WITH(TensorDataset(X, zeros({3, 1})),
                    "TensorDataset: inputs of shape (4, 2) hold 4 samples but there are 3 targets (targets of "
                    "shape (3, 1))");
  CHECK_THROWS_WITH(TensorDataset(X, scalar_tensor(1)),
                    "TensorDataset: targets must have a sample axis first, got shape ()");
  CHECK_THROWS_WITH(TensorDataset(X, zeros({4}).set_requires_grad()), "TensorDataset: targets must not require grad");
  CHECK_THROWS_WITH(d.get(4), "TensorDataset::gather: index 4 is not below the 4 samples");
}

TEST_CASE("to_labels: whole numbers >= 0 from (N) or (N, 1)", "[data][dataset]") {
  CHECK(to_labels(from_vector({2, 0, 7}, {3, 1})) == Labels{2, 0, 7});
  CHECK(to_labels(Tensor{1.0f, 3.0f}) == Labels{1, 3});
  CHECK_THROWS_WITH(to_labels(Tensor{1.0f, 2.5f}), "to_labels: value 2.5 at row 1 is not a class index (a whole number >= 0)");
  CHECK_THROWS_WITH(to_labels(Tensor{-1.0f}), Contains("value -1 at row 0"));
  CHECK_THROWS_WITH(to_labels(zeros({2, 2})), "to_labels: expected a tensor of shape (N) or (N, 1), got (2, 2)");
}

namespace {

// A dataset whose sample `bad` breaks the rule named by `how`.
struct Broken : Dataset {
  std::size_t bad;
  int how;
  Broken(std::size_t bad, int how) : bad(bad), how(how) {}
  std::size_t size() const override { return 8; }
  Sample get(std::size_t i) const override {
    if (i != bad) return {Tensor{1.0f, 2.0f}, Tensor{0.5f}};
    switch (how) {
      case 0: return {Tensor{1.0f, 2.0f, 3.0f}, Tensor{0.5f}};      // a longer input
      case 1: return {Tensor{1.0f, 2.0f}, Tensor{0.5f, 1.0f}};       // a longer target
      case 2: return {Tensor{1.0f, 2.0f}, Tensor(), 3};              // a label among float targets
      case 3: return {Tensor{1.0f, 2.0f}, Tensor{0.5f}, 1};          // both
      default: return {Tensor(), Tensor{0.5f}};                       // no input
    }
  }
};

}  // namespace

TEST_CASE("Dataset: samples that disagree with the batch's first are errors naming the sample", "[data][dataset][errors]") {
  auto first_batch = [](int how) {
    DataLoader loader(Broken(2, how), {.batch_size = 4});
    (void)loader.begin();
  };
  CHECK_THROWS_WITH(first_batch(0), "Dataset::get(2): input of shape (3), but the batch's first sample's is (2)");
  CHECK_THROWS_WITH(first_batch(1), "Dataset::get(2): target of shape (2), but the batch's first sample's is (1)");
  CHECK_THROWS_WITH(first_batch(2), "Dataset::get(2): a class label where the batch's first sample has a float target");
  CHECK_THROWS_WITH(first_batch(3), "Dataset::get(2): a sample needs exactly one target, a float tensor or a class "
                                    "label >= 0 (got both)");
  CHECK_THROWS_WITH(first_batch(4), "Dataset::get(2): the sample's input is undefined");
  CHECK_THROWS_WITH(DataLoader(std::shared_ptr<const Dataset>(), {}), "DataLoader: the dataset is null");
  CHECK_THROWS_WITH(DataLoader(Squares(0), {}), "DataLoader: the dataset is empty");
}
