// End-to-end tests of the example programs: the built executables (train_mnist, train_cifar10, quickstart,
// make_synthetic_data) run as a user runs them, on small generated data sets in a temporary folder, and
// their exit status, printed text, JSON reports and checkpoints are checked. Not tests of the layers or
// of the reader formats themselves (their own test files do that); runs are kept to a few seconds each.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "example_runner.hpp"

using namespace example_runner;

namespace {

// Flags of the short MNIST runs: 300 of the generated images, batches of 32 (10 steps an epoch).
const std::string kShortMnist = " --limit 300 --batch-size 32 --seed 3";

}  // namespace

TEST_CASE("make_synthetic_data writes files of the exact MNIST and CIFAR-10 sizes", "[examples]") {
  TempDir dir;
  const std::string mnist = make_data(dir, "mnist", 12, 3);
  // IDX: a 16-byte header and 28x28 bytes an image; labels an 8-byte header and a byte each.
  CHECK(fs::file_size(mnist + "/train-images-idx3-ubyte") == 16 + 12 * 784);
  CHECK(fs::file_size(mnist + "/train-labels-idx1-ubyte") == 8 + 12);
  CHECK(fs::file_size(mnist + "/t10k-images-idx3-ubyte") == 16 + 3 * 784);
  CHECK(fs::file_size(mnist + "/t10k-labels-idx1-ubyte") == 8 + 3);
  const std::string cifar = make_data(dir, "cifar10", 12, 3);
  // 12 records over five files: 2, 2, 3, 2, 3 (file b holds records [12b/5, 12(b+1)/5)).
  const int per_file[5] = {2, 2, 3, 2, 3};
  for (int b = 0; b < 5; ++b) {
    CHECK(fs::file_size(cifar + "/data_batch_" + std::to_string(b + 1) + ".bin") == per_file[b] * 3073u);
  }
  CHECK(fs::file_size(cifar + "/test_batch.bin") == 3 * 3073u);
  // Same seed, same bytes.
  const std::string again = dir / "again";
  run_ok(dir, "make_synthetic_data", "--format cifar10 --out '" + again + "' --train 12 --test 3 --seed 7");
  CHECK(read_text(again + "/data_batch_3.bin") == read_text(cifar + "/data_batch_3.bin"));
}

TEST_CASE("train_mnist: a short seeded run on generated digits lowers the training loss", "[examples]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 400, 200);
  const Run r = run_ok(dir, "train_mnist", "--data '" + data + "' --epochs 2" + kShortMnist + " --report '" +
                                               (dir / "report.json") + "'");
  CHECK(r.out.find("final: test accuracy") != std::string::npos);
  const json report = read_json(dir / "report.json");
  const json& config = report["config"];
  CHECK(config["architecture"] == "mnist_cnn(batch)");
  CHECK(config["epochs"] == 2);
  CHECK(config["limit"] == 300);
  CHECK(config["batch_size"] == 32);
  CHECK(config["seed"] == 3);
  CHECK(config["schedule"] == "onecycle");
  REQUIRE(report["epochs"].size() == 2);
  for (int e = 0; e < 2; ++e) {
    const json& epoch = report["epochs"][e];
    CHECK(epoch["epoch"] == e + 1);
    for (const char* key : {"train_loss", "train_accuracy", "test_accuracy", "images_per_second", "seconds"}) {
      INFO(key);
      CHECK(epoch[key].is_number());
    }
  }
  const double first = report["epochs"][0]["train_loss"], second = report["epochs"][1]["train_loss"];
  CHECK(second < first);
  CHECK(second < 2.302585);  // below ln 10, the loss of a uniform guess among 10 classes
  CHECK(report["peak_rss_mb"].get<double>() > 0);
}

TEST_CASE("train_cifar10 learns generated coloured shapes well above chance", "[examples]") {
  TempDir dir;
  const std::string data = make_data(dir, "cifar10", 600, 300);
  const Run r = run_ok(dir, "train_cifar10", "--data '" + data + "' --epochs 2 --batch-size 32 --threads 2 --report '" +
                                                 (dir / "report.json") + "'");
  const json report = read_json(dir / "report.json");
  CHECK(report["config"]["architecture"] == "cifar_cnn(batch)");
  CHECK(report["config"]["dataset"] == "cifar10");
  CHECK(report["config"]["weight_decay"] == Approx(5e-4));
  REQUIRE(report["epochs"].size() == 2);
  // Chance is 10%; hue and shape separate the classes, so two short epochs get far past it.
  CHECK(report["epochs"][1]["test_accuracy"].get<double>() > 0.5);
}

TEST_CASE("train_cifar10 --arch resnet9 trains the ResNet-9 and names it in the report", "[examples]") {
  TempDir dir;
  // 4 steps, the fewest for which the one-cycle schedule has both phases: the network is the costly part
  // (~0.8 GFLOP per training image), and the sanitizer build runs this too.
  const std::string data = make_data(dir, "cifar10", 64, 16);
  const Run r = run_ok(dir, "train_cifar10", "--arch resnet9 --data '" + data +
                                                 "' --epochs 1 --batch-size 16 --threads 2 --report '" +
                                                 (dir / "report.json") + "'");
  const json report = read_json(dir / "report.json");
  CHECK(report["config"]["architecture"] == "resnet9(batch)");
  REQUIRE(report["epochs"].size() == 1);
  CHECK(std::isfinite(report["epochs"][0]["train_loss"].get<double>()));
  const Run bad = run(dir, "train_cifar10", "--arch resnet10 --data '" + data + "'");
  CHECK(bad.status == 2);
  CHECK(bad.err.find("resnet10") != std::string::npos);
}

TEST_CASE("quickstart trains on generated digits and saves its weights", "[examples]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 600, 200);
  const Run r = run_ok(dir, "quickstart", "'" + data + "' '" + (dir / "weights.json") + "'");
  CHECK(r.out.find("epoch 2: mean training loss") != std::string::npos);
  const json weights = read_json(dir / "weights.json");
  CHECK(weights["format"] == "xgrad.checkpoint");
  // The first conv block's conv (16 filters of 1x3x3) and BN running mean, under their dotted names.
  CHECK(weights["model"]["parameters"]["0.0.weight"]["shape"] == json::array({16, 1, 3, 3}));
  CHECK(weights["model"]["buffers"]["0.1.running_mean"]["shape"] == json::array({16}));

  const Run missing = run(dir, "quickstart", "'" + (dir / "nowhere") + "' '" + (dir / "w2.json") + "'");
  CHECK(missing.status == 1);
  CHECK(missing.err.find("nowhere/train-images-idx3-ubyte: file not found") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "w2.json"));
}

TEST_CASE("the trainers: the same seed and thread count give the same run, bit for bit", "[examples]") {
  TempDir dir;
  // train_cifar10 adds random crops and flips (the transform generator) to what train_mnist exercises.
  const std::pair<std::string, std::string> trainers[] = {
      {"train_mnist", "--data '" + make_data(dir, "mnist", 300, 100) + "' --epochs 2 --limit 300"},
      {"train_cifar10", "--data '" + make_data(dir, "cifar10", 160, 50) + "' --epochs 1"}};
  for (const auto& trainer : trainers) {
    const std::string& program = trainer.first;  // not a structured binding: clang 14 cannot capture one
    const std::string& data_flags = trainer.second;
    INFO(program);
    auto train = [&](const std::string& name, int seed) {
      const Run r = run_ok(dir, program,
                           data_flags + " --batch-size 32 --threads 2 --seed " + std::to_string(seed) + " --report '" +
                               (dir / name) + ".json' --overwrite --checkpoint '" + (dir / name) + ".ckpt'");
    };
    train("a", 3);
    train("b", 3);
    train("c", 4);
    const json a = read_json(dir / "a.json"), b = read_json(dir / "b.json"), c = read_json(dir / "c.json");
    CHECK(without_timing(a) == without_timing(b));
    const json ca = read_json(dir / "a.ckpt"), cb = read_json(dir / "b.ckpt");
    for (const char* section : {"model", "optimizer", "scheduler", "generators"}) {
      INFO(section);
      CHECK(ca[section] == cb[section]);
    }
    // And the seed matters: otherwise the equality above would prove nothing.
    CHECK(a["epochs"].back()["train_loss"] != c["epochs"].back()["train_loss"]);
  }
}

TEST_CASE("train_mnist --resume continues a run exactly where its checkpoint left it", "[examples]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 300, 100);
  // A schedule that does not depend on the number of epochs, so one epoch then a second is one run of two.
  const std::string common = "--data '" + data + "' --schedule none" + kShortMnist;
  Run r = run_ok(dir, "train_mnist",
                 common + " --epochs 2 --checkpoint '" + (dir / "full.ckpt") + "' --report '" + (dir / "full.json") +
                     "'");
  r = run_ok(dir, "train_mnist", common + " --epochs 1 --checkpoint '" + (dir / "part.ckpt") + "'");
  CHECK(read_json(dir / "part.ckpt")["epoch"] == 1);
  r = run_ok(dir, "train_mnist",
             common + " --epochs 2 --resume '" + (dir / "part.ckpt") + "' --checkpoint '" + (dir / "part.ckpt") +
                 "' --report '" + (dir / "resumed.json") + "'");
  CHECK(r.err.find("after epoch 1") != std::string::npos);

  const json full = read_json(dir / "full.ckpt"), resumed = read_json(dir / "part.ckpt");
  CHECK(resumed["epoch"] == 2);
  CHECK(full["model"] == resumed["model"]);
  CHECK(full["optimizer"] == resumed["optimizer"]);
  CHECK(full["generators"] == resumed["generators"]);
  // The resumed report carries epoch 1 over from the checkpoint.
  CHECK(without_timing(read_json(dir / "full.json")) == without_timing(read_json(dir / "resumed.json")));

  // A checkpoint that does not fit the run (it has no schedule, the run has one) is refused before anything
  // is loaded, naming the flag and the value it was trained with.
  r = run(dir, "train_mnist", "--data '" + data + "'" + kShortMnist + " --epochs 3 --resume '" + (dir / "part.ckpt") + "'");
  INFO(r.err);
  CHECK(r.status == 2);
  CHECK(r.err.find("--schedule is onecycle but the checkpoint '" + (dir / "part.ckpt") +
                   "' was trained with --schedule none") != std::string::npos);
}

TEST_CASE("train_mnist --label-smoothing trains on smoothed labels, is recorded, and a resume must match it",
          "[examples]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 300, 100);
  const std::string common = "--data '" + data + "' --schedule none --epochs 1" + kShortMnist;
  Run r = run_ok(dir, "train_mnist", common + " --report '" + (dir / "plain.json") + "'");
  r = run_ok(dir, "train_mnist", common + " --label-smoothing 0.5 --checkpoint '" + (dir / "smooth.ckpt") +
                                     "' --report '" + (dir / "smooth.json") + "'");
  const json plain = read_json(dir / "plain.json"), smooth = read_json(dir / "smooth.json");
  CHECK(plain["config"]["label_smoothing"] == 0.0);
  CHECK(smooth["config"]["label_smoothing"] == 0.5);
  // Smoothed targets give another loss from the first step on (same seed, same batches).
  CHECK(plain["epochs"][0]["train_loss"] != smooth["epochs"][0]["train_loss"]);

  r = run(dir, "train_mnist", "--data '" + data + "' --schedule none --epochs 2" + kShortMnist + " --resume '" +
                                  (dir / "smooth.ckpt") + "'");
  CHECK(r.status == 2);
  CHECK(r.err.find("--label-smoothing is 0 but the checkpoint '" + (dir / "smooth.ckpt") +
                   "' was trained with --label-smoothing 0.5") != std::string::npos);
}

TEST_CASE("train_mnist --recipe fast sets its measured settings and leaves the flags given alone", "[examples]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 300, 100);
  // --limit given: the recipe's 36,000 images are more than the generated set holds.
  const Run r = run_ok(dir, "train_mnist", "--data '" + data + "' --recipe fast --limit 256 --lr 0.05 --report '" +
                                               (dir / "fast.json") + "'");
  const json config = read_json(dir / "fast.json")["config"];
  CHECK(config["epochs"] == 1);
  CHECK(config["batch_size"] == 32);
  CHECK(config["label_smoothing"] == 0.1);
  CHECK(config["schedule"] == "onecycle");
  CHECK(config["threads"] == 2);
  CHECK(config["limit"] == 256);  // given
  CHECK(config["lr"] == 0.05);    // given
}

TEST_CASE("the trainers answer bad flags with exit status 2 and the usage", "[examples]") {
  TempDir dir;
  struct Case {
    const char* args;
    const char* message;
  };
  const Case cases[] = {{"--bogus", "The following argument was not expected: --bogus"},
                        {"--epochs", "--epochs: 1 required"},
                        {"--epochs 0", "--epochs: Value 0 not in range 1 to 1000"},
                        {"--optimizer rmsprop", "--optimizer: rmsprop not in {sgd,adam,adamw}"},
                        {"--batch-size 0", "--batch-size: Value 0 not in range 1 to 65536"}};
  for (const char* program : {"train_mnist", "train_cifar10"}) {
    for (const Case& c : cases) {
      INFO(program << " " << c.args);
      const Run r = run(dir, program, c.args);
      CHECK(r.status == 2);
      CHECK(r.err.find(c.message) != std::string::npos);
      CHECK(r.err.find("Usage: " + std::string(program) + " [OPTIONS]") != std::string::npos);
    }
    const Run help = run(dir, program, "--help");
    CHECK(help.status == 0);
    CHECK(help.out.find("--resume") != std::string::npos);
  }
  const Run r = run(dir, "make_synthetic_data", "--format mnist");
  CHECK(r.status == 2);
  CHECK(r.err.find("--out is required") != std::string::npos);
}

TEST_CASE("train_cifar10 names the missing file when the data folder is wrong", "[examples]") {
  TempDir dir;
  const Run r = run(dir, "train_cifar10", "--data '" + (dir / "nowhere") + "'");
  CHECK(r.status == 1);
  CHECK(r.err.find("nowhere/data_batch_1.bin: file not found") != std::string::npos);
}
