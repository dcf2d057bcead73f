// evaluate() with Accuracy: eval mode, no graph, BatchNorm folded into the conv or dense before it. Its
// accuracy must equal that of the unfused model in eval mode, and the model must come back as it was.
#include <catch2/catch.hpp>

#include "xgrad/data/data_loader.hpp"
#include "xgrad/models/reference_networks.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

TEST_CASE("evaluate: the folded model scores what the unfused one does, and the model is left as it was",
          "[training][evaluate]") {
  auto model = mnist_cnn(Normalization::Batch, 4);
  Generator gen(11);
  {
    // A few training-mode passes move the running statistics away from (0, 1), so folding has work to do.
    NoGradGuard no_grad;
    for (int i = 0; i < 3; ++i) (*model)(randn({32, 1, 28, 28}, gen) * 2.0f + 0.5f);
  }
  const Tensor x = randn({64, 1, 28, 28}, gen);
  Labels argmax(64);
  {
    NoGradGuard no_grad;
    model->eval();
    const Tensor logits = (*model)(x);
    model->train();
    for (std::size_t n = 0; n < 64; ++n) {
      std::size_t best = 0;
      for (std::size_t c = 1; c < 10; ++c) best = logits.at({n, c}) > logits.at({n, best}) ? c : best;
      argmax[n] = static_cast<std::int32_t>(best);
    }
  }
  std::vector<std::vector<float>> buffers_before;
  for (const auto& [name, b] : model->named_buffers()) buffers_before.push_back(b.to_vector());

  DataLoader all_right(TensorDataset(x, argmax), {.batch_size = 24});
  CHECK(evaluate(*model, all_right, {std::make_shared<Accuracy>()}).at("accuracy") == 1.0);
  Labels half_wrong = argmax;
  for (std::size_t n = 0; n < 64; n += 2) half_wrong[n] = (half_wrong[n] + 1) % 10;
  DataLoader half(TensorDataset(x, half_wrong), {.batch_size = 24});
  CHECK(evaluate(*model, half, {std::make_shared<Accuracy>()}).at("accuracy") == 0.5);

  CHECK(model->is_training());
  std::size_t i = 0;
  for (const auto& [name, b] : model->named_buffers()) CHECK(b.to_vector() == buffers_before[i++]);
  // The model still trains: no module was replaced by its folded copy.
  CHECK((*model)(x).requires_grad());
}
