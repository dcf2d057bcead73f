// train_cifar10: the reference CIFAR-10 CNN (three Conv-BN-ReLU-Pool blocks, global average pooling, Dense)
// or, with --arch resnet9, the fast CIFAR-10 ResNet-9 shape, on the CIFAR-10 binary files, with
// torchvision's usual augmentation (RandomCrop(32, padding 4) and RandomHorizontalFlip) for training. The
// other flags and the JSON report are train_mnist's.
//   ./build/train_cifar10 --data datasets/cifar-10-batches-bin --epochs 10 --report runs/cifar10.json
#include <cstdio>
#include <string>

#include "xgrad/data/cifar.hpp"
#include "xgrad/data/data_loader.hpp"
#include "xgrad/data/transforms.hpp"
#include "examples/common/classifier_app.hpp"
#include "examples/common/cli.hpp"
#include "examples/common/data_parallel.hpp"
#include "examples/common/run_record.hpp"
#include "examples/common/trainer_data.hpp"
#include "xgrad/models/reference_networks.hpp"

using namespace xgrad;

int main(int argc, char** argv) {
  examples::DataParallel dp(argc, argv, "train_cifar10");  // under mpirun: data-parallel over its ranks
  examples::ClassifierConfig config;
  config.data = "datasets/cifar-10-batches-bin";
  config.dataset = "cifar10";
  // Defaults for a small BN network on CIFAR-10: SGD with Nesterov momentum, one cycle peaking at 0.05,
  // batch 128 and the customary weight decay of 5e-4.
  config.epochs = 10;
  config.batch_size = 128;
  config.lr = 0.05;
  config.weight_decay = 5e-4;
  CLI::App app("Train the reference CNN on CIFAR-10 (the binary version, data_batch_1.bin ... test_batch.bin).",
               "train_cifar10");
  app.add_option("--data", config.data, "Folder with data_batch_1.bin ... data_batch_5.bin and test_batch.bin")
      ->capture_default_str();
  std::string arch = "cnn";
  app.add_option("--arch", arch, "Network: cnn (three conv blocks) or resnet9 (the fast CIFAR-10 ResNet-9)")
      ->check(CLI::IsMember({"cnn", "resnet9"}))
      ->capture_default_str();
  examples::add_classifier_flags(app, config);
  dp.add_flags(app);
  if (int status = examples::parse_command_line(app, argc, argv); status >= 0) return status;

  try {
    TensorDataset train_set = load_cifar10(config.data, true, config.limit);  // --limit: only those images are read
    TensorDataset test_set = load_cifar10(config.data, false);
    examples::check_samples(train_set, {3, 32, 32}, config.data + "/data_batch_*.bin");
    examples::check_samples(test_set, {3, 32, 32}, config.data + "/test_batch.bin");
    // The usual CIFAR-10 constants: mean and standard deviation of the training pixels, per channel (R, G, B).
    Normalize normalize({0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f});
    // Crop and flip act on pixels in [0, 1], so the zero padding is black, as in torchvision's pipeline.
    Transform augment = compose({RandomCrop(32, 4), RandomHorizontalFlip(), normalize});

    // --batch-size is the global batch: each rank loads its share of it (dp.shard).
    DataLoader train(train_set,
                     dp.shard(examples::training_loader_options(train_set.size(), config.batch_size, config.seed,
                                                                !config.no_bn)),
                     augment);
    DataLoader test(test_set, {.batch_size = 250}, normalize);
    const Normalization norm = config.no_bn ? Normalization::None : Normalization::Batch;
    auto model = arch == "resnet9" ? resnet9(norm, config.seed) : cifar_cnn(norm, config.seed);
    const std::string architecture = (arch == "resnet9" ? "resnet9(" : "cifar_cnn(") + to_string(norm) + ")";
    std::fprintf(stderr, "train_cifar10: %s on %zu training and %zu test images from %s\n", architecture.c_str(),
                 train_set.size(), test_set.size(), config.data.c_str());
    const examples::DataParallelHooks hooks = dp.prepare(*model);
    return examples::run_classifier(config, architecture, *model, train, test, hooks);
  } catch (const examples::UsageError& e) {
    return dp.fail(e.what()) == 0 ? 0 : 2;  // a flag that conflicts with the checkpoint: a usage error
  } catch (const std::exception& e) {
    return dp.fail(e.what());
  }
}
