// train_mnist: the reference CNN (Conv-BN-ReLU-Pool x2, Dense-BN-ReLU, Dense) on MNIST or Fashion-MNIST.
//   ./build/train_mnist --data datasets/mnist --epochs 2 --report runs/mnist.json
#include <cstdio>

#include "xgrad/data/data_loader.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/data/transforms.hpp"
#include "examples/common/classifier_app.hpp"
#include "examples/common/cli.hpp"
#include "examples/common/data_parallel.hpp"
#include "examples/common/run_record.hpp"
#include "examples/common/trainer_data.hpp"
#include "xgrad/models/reference_networks.hpp"

using namespace xgrad;

int main(int argc, char** argv) {
  examples::DataParallel dp(argc, argv, "train_mnist");  // under mpirun: data-parallel over its ranks
  examples::ClassifierConfig config;
  config.data = "datasets/mnist";
  config.dataset = "mnist";
  CLI::App app("Train the reference CNN on MNIST or Fashion-MNIST (IDX files).", "train_mnist");
  app.add_option("--data", config.data, "Folder with the four IDX files")->capture_default_str();
  app.add_option("--dataset", config.dataset, "mnist | fashion (sets the normalization constants)")
      ->check(CLI::IsMember({"mnist", "fashion"}))
      ->capture_default_str();
  examples::add_classifier_flags(app, config);
  std::string recipe = "default";
  app.add_option("--recipe", recipe,
                 "fast: the settings measured to reach the target accuracy soonest (99% on MNIST, 91% on "
                 "Fashion-MNIST; README, Speed); flags given explicitly override it")
      ->check(CLI::IsMember({"default", "fast"}))
      ->capture_default_str();
  dp.add_flags(app);
  if (int status = examples::parse_command_line(app, argc, argv); status >= 0) return status;
  const bool fashion = config.dataset == "fashion";
  config.target_accuracy = fashion ? 0.91 : 0.99;  // the report's time_to_target
  if (recipe == "fast") examples::apply_fast_recipe(config, fashion, [&](const char* flag) { return app.count(flag) > 0; });

  try {
    TensorDataset train_set = load_mnist(config.data, true, config.limit);  // --limit: only those images are read
    TensorDataset test_set = load_mnist(config.data, false);
    examples::check_samples(train_set, {1, 28, 28}, config.data + "/train-images-idx3-ubyte");
    examples::check_samples(test_set, {1, 28, 28}, config.data + "/t10k-images-idx3-ubyte");
    // The usual per-data-set constants (mean, std of the training pixels).
    Normalize normalize({fashion ? 0.2860f : 0.1307f}, {fashion ? 0.3530f : 0.3081f});

    // --batch-size is the global batch: each rank loads its share of it (dp.shard).
    DataLoader train(train_set,
                     dp.shard(examples::training_loader_options(train_set.size(), config.batch_size, config.seed,
                                                                !config.no_bn)),
                     normalize);
    DataLoader test(test_set, {.batch_size = 250}, normalize);  // small batches: less memory, as fast
    auto model = mnist_cnn(config.no_bn ? Normalization::None : Normalization::Batch, config.seed);
    std::fprintf(stderr, "train_mnist: %zu training and %zu test images from %s, %s\n", train_set.size(),
                 test_set.size(), config.data.c_str(), config.no_bn ? "without BN" : "with BN");
    const examples::DataParallelHooks hooks = dp.prepare(*model);
    return examples::run_classifier(config, config.no_bn ? "mnist_cnn(none)" : "mnist_cnn(batch)", *model, train,
                                    test, hooks);
  } catch (const examples::UsageError& e) {
    return dp.fail(e.what()) == 0 ? 0 : 2;  // a flag that conflicts with the checkpoint: a usage error
  } catch (const std::exception& e) {
    return dp.fail(e.what());
  }
}
