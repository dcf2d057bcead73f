// quickstart: the shortest complete xgrad training script. A CNN of Conv->BN->ReLU blocks learns MNIST in
// two epochs of SGD, printing its loss and test accuracy, then saves its weights. The trainers
// (train_mnist, train_cifar10) add flags, schedules, checkpoints and reports around the same loop.
//   ./build/quickstart [DATA_DIR [WEIGHTS_FILE]]     defaults: datasets/mnist, quickstart_weights.json
#include <algorithm>
#include <cstdio>
#include <string>

#include "examples/common/cli.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

int main(int argc, char** argv) try {
  std::string data = "datasets/mnist", weights = "quickstart_weights.json";
  CLI::App app("Train a small Conv-BN-ReLU network on MNIST for two epochs and save its weights.", "quickstart");
  app.add_option("data", data, "Folder with the four MNIST IDX files")->capture_default_str();
  app.add_option("weights", weights, "Where to save the trained weights")->capture_default_str();
  if (int status = examples::parse_command_line(app, argc, argv); status >= 0) return status;  // 2: bad usage

  Normalize normalize({0.1307f}, {0.3081f});  // MNIST's pixel mean and standard deviation
  DataLoader train(load_mnist(data, true), {.batch_size = 64, .shuffle = true, .seed = 1}, normalize);
  DataLoader test(load_mnist(data, false), {.batch_size = 500}, normalize);

  Generator gen(1);  // draws every initial weight: same seed, same run
  Sequential model{conv_bn_act(1, 16, 3, std::make_shared<ReLU>(), gen), std::make_shared<MaxPool2d>(2),
                   conv_bn_act(16, 32, 3, std::make_shared<ReLU>(), gen), std::make_shared<MaxPool2d>(2),
                   std::make_shared<Flatten>(), std::make_shared<Dense>(32 * 7 * 7, 10, gen)};  // (N, 10)
  SGD optimizer(model.named_parameters(), {.lr = 0.01, .momentum = 0.9});

  for (int epoch = 1; epoch <= 2; ++epoch) {
    model.train();
    double loss_sum = 0;
    for (const auto& [images, labels, targets] : train) {  // images (64, 1, 28, 28)
      optimizer.zero_grad();
      Tensor loss = cross_entropy(model(images), labels);
      loss.backward();
      optimizer.step();
      loss_sum += loss.item();
    }
    model.eval();  // BatchNorm now uses its running statistics
    NoGradGuard no_grad;
    std::size_t correct = 0;
    for (const auto& [images, labels, targets] : test) {
      Tensor logits = model(images);
      for (std::size_t n = 0; n < labels.size(); ++n) {
        const float* row = logits.data() + n * 10;
        correct += std::max_element(row, row + 10) - row == labels[n];
      }
    }
    std::printf("epoch %d: mean training loss %.4f, test accuracy %.2f%%\n", epoch, loss_sum / double(train.size()),
                100.0 * double(correct) / double(test.dataset().size()));
  }
  save_weights(weights, model);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "quickstart: %s\n", e.what());
  return 1;
}
