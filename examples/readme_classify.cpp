// Image classification with fit: a small CNN learns MNIST (IDX files in the folder given) in two epochs.
//   ./build/readme_classify datasets/mnist
#include <cstdio>
#include <memory>
#include <string>

#include <xgrad/xgrad.hpp>

using namespace xgrad;

int main(int argc, char** argv) try {
  const std::string data = argc > 1 ? argv[1] : "datasets/mnist";
  Normalize normalize({0.1307f}, {0.3081f});  // MNIST's pixel mean and standard deviation
  DataLoader train(load_mnist(data, true), {.batch_size = 64, .shuffle = true, .seed = 1}, normalize);
  DataLoader test(load_mnist(data, false), {.batch_size = 500}, normalize);

  Generator gen(1);  // draws every initial weight: same seed, same run
  Sequential model{conv_bn_act(1, 16, 3, std::make_shared<ReLU>(), gen), std::make_shared<MaxPool2d>(2),
                   conv_bn_act(16, 32, 3, std::make_shared<ReLU>(), gen), std::make_shared<MaxPool2d>(2),
                   std::make_shared<Flatten>(), std::make_shared<Dense>(32 * 7 * 7, 10, gen)};  // (N, 10)
  SGD optimizer(model.parameters(), {.lr = 0.05, .momentum = 0.9, .nesterov = true});
  OneCycleLR schedule(optimizer, 0.05, 2 * train.size());  // stepped after every batch

  const auto history = fit(model, train, optimizer, {.epochs = 2, .scheduler = &schedule, .validation = &test});
  for (const EpochLogs& e : history)
    std::printf("epoch %d: loss %.4f, test accuracy %.2f%%\n", int(e.at("epoch")), e.at("loss"),
                100 * e.at("val_accuracy"));
  auto confusion = std::make_shared<ConfusionMatrix>(10);
  evaluate(model, test, {confusion});
  std::printf("test images of each digit classified right:");
  for (int digit = 0; digit < 10; ++digit) std::printf(" %d", int(confusion->counts()[digit][digit]));
  std::printf("\n");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "readme_classify: %s\n", e.what());
  return 1;
}
