// Residual (y = x + body(x)) and the ResNet-9 reference network: values against the composition done by
// hand, the gradient by finite differences, the shape error, and BN folding through the skip connection.
#include <catch2/catch.hpp>

#include <cmath>

#include "gradcheck.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

TEST_CASE("Residual adds its body's output to its input, and its gradient passes both ways") {
  Generator gen(3);
  auto body = std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
      std::make_shared<Dense>(4, 4, gen), std::make_shared<Tanh>()});
  Residual residual(body);
  const Tensor x = randn({3, 4}, gen);
  const Tensor expected = add(x, (*body)(x));
  const Tensor y = residual(x);
  for (std::size_t i = 0; i < y.numel(); ++i) CHECK(y.data()[i] == expected.data()[i]);
  CHECK(residual.named_parameters()[0].first == "body.0.weight");

  // Tanh is smooth and float32 sums of four products: gradcheck's defaults hold.
  const Tensor input = testing::random_param({3, 4}, 11);
  std::vector<Tensor> inputs{input};
  for (auto [name, p] : residual.named_parameters()) inputs.push_back(p);
  const auto result = testing::gradcheck([&](const std::vector<Tensor>& in) { return residual(in[0]); }, inputs);
  INFO(result.message);
  CHECK(result.ok);
}

TEST_CASE("Residual refuses a body that changes the shape, naming both shapes") {
  Generator gen(1);
  Residual residual(std::make_shared<Sequential>(
      std::initializer_list<std::shared_ptr<Module>>{std::make_shared<Dense>(4, 3, gen)}));
  CHECK_THROWS_WITH(residual(zeros({2, 4})), Catch::Contains("(2, 4)") && Catch::Contains("(2, 3)"));
  CHECK_THROWS_WITH(Residual(nullptr), Catch::Contains("null"));
}

TEST_CASE("resnet9: logits of shape (N, 10), one Residual per stage, BN folding through the skips") {
  auto model = resnet9(Normalization::Batch, 1);
  Generator gen(5);
  const Tensor x = randn({2, 3, 32, 32}, gen);
  model->train();
  {
    NoGradGuard no_grad;
    for (int i = 0; i < 2; ++i) (*model)(x);  // running statistics that are not the initial ones
  }
  model->eval();
  NoGradGuard no_grad;
  const Tensor logits = (*model)(x);
  CHECK(logits.shape() == Shape{2, 10});
  int residuals = 0;
  for (const auto& [name, m] : model->children()) residuals += dynamic_cast<Residual*>(m.get()) != nullptr;
  CHECK(residuals == 3);
  // 10 convolutions without bias (1 + 3 per stage), 10 BatchNorms (2 parameters each), one Dense with bias.
  CHECK(model->named_parameters().size() == 10 + 20 + 2);

  auto fused = fuse_conv_bn(*model);
  const Tensor folded = (*fused)(x);
  double worst = 0;
  for (std::size_t i = 0; i < logits.numel(); ++i) {
    worst = std::max(worst, std::abs(double(folded.data()[i]) - logits.data()[i]) / (1 + std::abs(logits.data()[i])));
  }
  // Folding reassociates each channel's scale into the weights: float32 rounding through 9 layers.
  CHECK(worst < 1e-4);
  bool residual_kept = false;
  for (const auto& [name, m] : fused->children()) {
    // The body's first BatchNorm (position 1) is folded into the conv before it.
    if (auto* r = dynamic_cast<Residual*>(m.get())) residual_kept = !dynamic_cast<BatchNorm*>((*r->body())[1].get());
  }
  CHECK(residual_kept);
}
