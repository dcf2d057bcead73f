// Metrics and evaluate/predict: values worked out by hand, ties, the streaming form against the one-batch
// functions, errors naming the shapes; evaluate in eval mode without a graph, the mode restored.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <vector>

#include "xgrad/xgrad.hpp"

using namespace xgrad;
using Catch::Matchers::Contains;

TEST_CASE("count_correct, count_top_k and the confusion matrix by hand", "[training][metrics]") {
  // Rows: argmax 2, argmax 0 (a tie with 1: the first wins), argmax 1.
  const Tensor logits = from_vector({0.1f, 0.2f, 0.7f, 0.5f, 0.5f, 0.0f, 0.2f, 0.9f, 0.3f}, {3, 3});
  const Labels labels{2, 1, 0};
  CHECK(count_correct(logits, labels) == 1);
  CHECK(count_top_k(logits, labels, 1) == 2);  // row 1: label 1 ties the max, so it is in the top 1
  CHECK(count_top_k(logits, labels, 2) == 2);  // row 2: label 0 is the smallest of three
  CHECK(count_top_k(logits, labels, 3) == 3);
  std::vector<std::vector<std::size_t>> counts(3, std::vector<std::size_t>(3));
  add_confusion(counts, logits, labels);
  CHECK(counts == std::vector<std::vector<std::size_t>>{{0, 1, 0}, {1, 0, 0}, {0, 0, 1}});

  CHECK_THROWS_WITH(count_correct(logits, {0, 1}), "count_correct: logits of shape (3, 3) for 2 labels");
  CHECK_THROWS_WITH(count_correct(logits, {0, 1, 3}), "count_correct: label 3 at row 2 is not a class of logits of shape (3, 3)");
  CHECK_THROWS_WITH(count_correct(Tensor{1.0f}, {0}), "count_correct: expected logits of shape (N, C), got (1)");
  CHECK_THROWS_WITH(TopKAccuracy(0), "TopKAccuracy: k must be >= 1, got 0");
}

TEST_CASE("Metric objects accumulate over batches as over one", "[training][metrics]") {
  const Tensor logits = from_vector({0.1f, 0.2f, 0.7f, 0.5f, 0.4f, 0.0f, 0.2f, 0.9f, 0.3f, 1, 0, 0}, {4, 3});
  Batch whole{Tensor(), {2, 1, 1, 0}, Tensor()};
  Batch first{Tensor(), {2, 1}, Tensor()}, second{Tensor(), {1, 0}, Tensor()};
  const Tensor top = from_vector({0.1f, 0.2f, 0.7f, 0.5f, 0.4f, 0.0f}, {2, 3});
  const Tensor bottom = from_vector({0.2f, 0.9f, 0.3f, 1, 0, 0}, {2, 3});
  Accuracy a;
  CHECK(std::isnan(a.compute()));
  a.update(top, first);
  a.update(bottom, second);
  CHECK(a.compute() == 0.75);
  a.reset();
  a.update(logits, whole);
  CHECK(a.compute() == 0.75);
  TopKAccuracy top2(2);
  top2.update(logits, whole);
  CHECK(top2.compute() == 1.0);
  CHECK(top2.name() == "top_2_accuracy");
  ConfusionMatrix cm(3);
  cm.update(top, first);
  cm.update(bottom, second);
  CHECK(cm.counts() == std::vector<std::vector<std::size_t>>{{1, 0, 0}, {1, 1, 0}, {0, 0, 1}});
  CHECK(cm.compute() == 0.75);
  CHECK_THROWS_WITH(ConfusionMatrix(2).update(top, first), "confusion_matrix: 2 classes, but logits of shape (2, 3)");

  // MSE and MAE over every element: errors 1, -2, 0.5, 0 -> squares 1, 4, 0.25, 0; absolute 1, 2, 0.5, 0.
  const Tensor out = from_vector({1, 0, 2.5f, 3}, {2, 2});
  Batch regression{Tensor(), {}, from_vector({0, 2, 2, 3}, {2, 2})};
  MeanSquaredError mse;
  MeanAbsoluteError mae;
  mse.update(out, regression);
  mae.update(out, regression);
  CHECK(mse.compute() == 5.25 / 4);
  CHECK(mae.compute() == 3.5 / 4);
  CHECK_THROWS_WITH(mse.update(Tensor{1.0f, 2.0f}, regression),
                    "MeanSquaredError: outputs of shape (2) for targets of shape (2, 2)");
  CHECK_THROWS_WITH(mae.update(out, whole), "MeanAbsoluteError: the batch has no float targets (class labels: use Accuracy)");
  CHECK_THROWS_WITH(a.update(out, regression), Contains("(the batch has float targets, not labels?)"));
}

TEST_CASE("evaluate and predict: eval mode, no graph, the mode restored, BN folded", "[training][evaluate]") {
  Generator gen(3);
  Sequential model{std::make_shared<Dense>(4, 6, gen), std::make_shared<BatchNorm1d>(6), std::make_shared<ReLU>(),
                   std::make_shared<Dense>(6, 3, gen)};
  const Tensor x = randn({10, 4}, gen);
  {  // running statistics that are not the initial ones
    model.train();
    NoGradGuard no_grad;
    model(x * 2.0f + 1.0f);
  }
  const Labels labels{0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
  DataLoader loader(TensorDataset(x, labels), {.batch_size = 4});
  model.eval();
  const Tensor reference = [&] {
    NoGradGuard no_grad;
    return model(x);
  }();
  for (bool training : {true, false}) {
    model.train(training);
    const Tensor p = predict(model, loader);
    CHECK(model.is_training() == training);
    CHECK_FALSE(p.requires_grad());
    REQUIRE(p.shape() == Shape{10, 3});
    for (std::size_t i = 0; i < p.numel(); ++i) CHECK(p.data()[i] == Approx(reference.data()[i]).margin(1e-5));
    const auto r = evaluate(model, loader, {std::make_shared<Accuracy>(), std::make_shared<TopKAccuracy>(3)},
                            default_loss);
    CHECK(model.is_training() == training);
    CHECK(r.at("accuracy") == double(count_correct(p, labels)) / 10);
    CHECK(r.at("top_3_accuracy") == 1.0);
    CHECK(r.at("loss") == Approx(cross_entropy(p, labels).item()).epsilon(1e-5));
  }
}
