// quickstart: the shortest complete xgrad training script. A CNN of Conv->BN->ReLU blocks learns MNIST in
// two epochs of SGD with fit, printing its loss and test accuracy, then saves its weights. The trainers
// (train_mnist, train_cifar10) add flags, schedules, checkpoints and reports around the same loop.
//   ./build/quickstart [DATA_DIR [WEIGHTS_FILE]]     defaults: datasets/mnist, quickstart_weights.json
#include <cstdio>
#include <string>

#include <xgrad/xgrad.hpp>

using namespace xgrad;

int main(int argc, char** argv) try {
  const std::string first = argc > 1 ? argv[1] : "";
  if (argc > 3 || first.rfind("-", 0) == 0) {  // --help, an option, or a third argument
    const bool help = argc == 2 && (first == "--help" || first == "-h");
    if (!help) std::fprintf(stderr, "quickstart: %s\n", argc > 3 ? "at most two arguments" : "no options but --help");
    std::fprintf(help ? stdout : stderr, "Usage: quickstart [DATA_DIR [WEIGHTS_FILE]]\n"
                                         "  defaults: datasets/mnist quickstart_weights.json\n");
    return help ? 0 : 2;
  }
  const std::string data = argc > 1 ? argv[1] : "datasets/mnist";
  const std::string weights = argc > 2 ? argv[2] : "quickstart_weights.json";

  Normalize normalize({0.1307f}, {0.3081f});  // MNIST's pixel mean and standard deviation
  DataLoader train(load_mnist(data, true), {.batch_size = 64, .shuffle = true, .seed = 1}, normalize);
  DataLoader test(load_mnist(data, false), {.batch_size = 500}, normalize);

  Generator gen(1);  // draws every initial weight: same seed, same run
  Sequential model{conv_bn_act(1, 16, 3, std::make_shared<ReLU>(), gen), std::make_shared<MaxPool2d>(2),
                   conv_bn_act(16, 32, 3, std::make_shared<ReLU>(), gen), std::make_shared<MaxPool2d>(2),
                   std::make_shared<Flatten>(), std::make_shared<Dense>(32 * 7 * 7, 10, gen)};  // (N, 10)
  SGD optimizer(model.named_parameters(), {.lr = 0.01, .momentum = 0.9});

  // Two epochs: cross-entropy on the labels, the test set evaluated after each (eval mode, BN folded).
  const auto history = fit(model, train, optimizer, {.epochs = 2, .validation = &test});
  for (const EpochLogs& e : history) {
    std::printf("epoch %d: mean training loss %.4f, test accuracy %.2f%%\n", int(e.at("epoch")), e.at("loss"),
                100.0 * e.at("val_accuracy"));
  }
  save_weights(weights, model);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "quickstart: %s\n", e.what());
  return 1;
}
