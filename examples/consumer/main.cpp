// A user's program: trains a small Conv -> BN -> ReLU network for a few steps on a made-up task (is the
// image's left half brighter than its right?) and prints the loss. Built by examples/consumer/CMakeLists.txt
// against an installed, a subproject or a fetched xgrad.
#include <cstdio>
#include <memory>

#include <xgrad/xgrad.hpp>

using namespace xgrad;

int main() {
  Generator gen(7);
  Sequential model{conv_bn_act(1, 8, 3, std::make_shared<ReLU>(), gen), std::make_shared<MaxPool2d>(2),
                   std::make_shared<Flatten>(), std::make_shared<Dense>(8 * 4 * 4, 2, gen)};
  SGD optimizer(model.named_parameters(), {.lr = 0.1, .momentum = 0.9});

  Tensor images = randn({32, 1, 8, 8}, gen);  // (N, 1, 8, 8)
  Labels labels(32);
  for (std::size_t n = 0; n < labels.size(); ++n) {
    const float* image = images.data() + n * 64;
    float left = 0, right = 0;
    for (int i = 0; i < 64; ++i) (i % 8 < 4 ? left : right) += image[i];
    labels[n] = left > right ? 1 : 0;
  }

  model.train();
  float first = 0, last = 0;
  for (int step = 1; step <= 20; ++step) {
    optimizer.zero_grad();
    Tensor loss = cross_entropy(model(images), labels);
    loss.backward();
    optimizer.step();
    if (step == 1) first = loss.item();
    last = loss.item();
    if (step % 5 == 0) std::printf("step %2d: loss %.4f\n", step, loss.item());
  }
  std::printf("loss %.4f -> %.4f\n", first, last);
  return last < first ? 0 : 1;  // the network learned something
}
