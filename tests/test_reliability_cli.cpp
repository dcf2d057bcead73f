// Every example program answers a bad command line (an unknown flag, a flag without its value, a number out
// of range, a bad combination) with the reason, its usage text and exit status 2, before doing any work.
#include <catch2/catch.hpp>
#include <string>

#include "example_runner.hpp"

using namespace example_runner;

namespace {

struct BadCommandLine {
  const char* program;
  const char* args;
  const char* message;  // part of what CLI11 prints on stderr
};

}  // namespace

TEST_CASE("every example rejects bad command lines with its usage and exit status 2", "[examples][cli]") {
  TempDir dir;
  const BadCommandLine cases[] = {
      {"train_mnist", "--bogus", "The following argument was not expected: --bogus"},
      {"train_mnist", "--lr", "--lr: 1 required"},
      {"train_mnist", "--lr 11", "--lr: Value 11 not in range"},
      {"train_mnist", "--threads 0", "--threads: Value 0 not in range 1 to 256"},
      {"train_mnist", "--seed x", "--seed: Value x is not a whole number >= 0"},
      {"train_mnist", "--seed -1", "--seed: Value -1 is not a whole number >= 0"},
      {"train_mnist", "--limit -1", "--limit: Value -1 is not a whole number >= 0"},
      {"train_mnist", "--lr nan", "--lr: Value nan is not a finite number"},
      {"train_mnist", "--lr inf", "--lr: Value inf is not a finite number"},
      {"train_mnist", "--lr 1e400", "--lr: Value 1e400 is not a finite number"},
      {"train_mnist", "--lr -0.1", "--lr: Value -0.1 not in range 1e-08 to 10"},
      {"train_mnist", "--weight-decay nan", "--weight-decay: Value nan is not a finite number"},
      {"train_mnist", "--epochs 1e3", "--epochs: Value 1e3 is not a whole number >= 0"},
      {"train_mnist", "--epochs 99999999999999999999999999", "--epochs: Value 99999999999999999999... not in range 1 to 1000"},
      {"train_mnist", "--batch-size 0", "--batch-size: Value 0 not in range 1 to 65536"},
      {"train_mnist", "--report ''", "--report: the path is empty"},
      {"bn_vs_no_bn", "--target nan", "--target: Value nan is not a finite number"},
      {"bn_vs_no_bn", "--steps -5", "--steps: Value -5 is not a whole number >= 0"},
      {"bn_vs_no_bn", "--lrs 0.1,nan", "--lrs: Value nan is not a finite number"},
      {"make_synthetic_data", "--format mnist --out x --seed -1", "--seed: Value -1 is not a whole number >= 0"},
      {"train_mnist", "--on-nan retry", "--on-nan: retry not in {stop,rollback}"},
      {"train_mnist", "--on-nan rollback", "--on-nan: rollback needs --checkpoint"},
      {"train_mnist", "--max-rollbacks 11 --on-nan rollback --checkpoint x",
       "--max-rollbacks: Value 11 not in range 0 to 10"},
      {"train_cifar10", "--bogus", "The following argument was not expected: --bogus"},
      {"train_cifar10", "--on-nan rollback", "--on-nan: rollback needs --checkpoint"},
      {"train_cifar10", "--weight-decay 2", "--weight-decay: Value 2 not in range"},
      {"train_mnist", "--label-smoothing 1.5", "--label-smoothing: Value 1.5 not in range 0 to 1"},
      {"train_cifar10", "--pct-start nan", "--pct-start: Value nan is not a finite number"},
      {"make_synthetic_data", "--format mnist --out x --bogus", "The following argument was not expected: --bogus"},
      {"make_synthetic_data", "--format mnist --out x --train", "--train: 1 required"},
      {"make_synthetic_data", "--format mnist --out x --train 4", "--train: Value 4 not in range 5 to 1000000"},
      {"make_synthetic_data", "--format png --out x", "--format: png not in {mnist,cifar10}"},
      {"quickstart", "--bogus", "quickstart: no options but --help"},
      {"quickstart", "a b c", "quickstart: at most two arguments"},
      {"data_check", "", "dirs is required"},
      {"data_check", "datasets/mnist --bogus", "The following argument was not expected: --bogus"},
      {"checkpoint_timing", "--bogus", "The following argument was not expected: --bogus"},
      {"checkpoint_timing", "/tmp 0", "runs: Value 0 not in range 1 to 1000"},
      {"checkpoint_timing", "/tmp many", "runs: Value many is not a whole number >= 0"},
      {"bn_vs_no_bn", "--bogus", "The following argument was not expected: --bogus"},
      {"bn_vs_no_bn", "--threads", "--threads: 1 required"},
      {"bn_vs_no_bn", "--threads 0", "--threads: Value 0 not in range 1 to 256"},
  };
  for (const BadCommandLine& c : cases) {
    INFO(c.program << " " << c.args);
    const Run r = run(dir, c.program, c.args);
    CHECK(r.status == 2);
    CHECK(r.err.find(c.message) != std::string::npos);
    CHECK(r.err.find("Usage: " + std::string(c.program)) != std::string::npos);
    CHECK(r.out.empty());
  }
  // --help is not an error: the usage on stdout, status 0.
  for (const char* program :
       {"train_mnist", "train_cifar10", "make_synthetic_data", "quickstart", "data_check", "checkpoint_timing"}) {
    INFO(program);
    const Run help = run(dir, program, "--help");
    CHECK(help.status == 0);
    CHECK(help.out.find("Usage: " + std::string(program)) != std::string::npos);
  }
}

TEST_CASE("an impossible schedule names the flags that made it and what to change", "[examples][cli]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 8, 4);
  const Run r = run(dir, "train_mnist", "--data '" + data + "' --epochs 1 --batch-size 64 --schedule onecycle");
  CHECK(r.status == 2);
  CHECK(r.err.find("--schedule onecycle over 1 steps (--epochs 1 x 1 batches per epoch, from --batch-size and "
                   "--limit) is impossible") != std::string::npos);
  CHECK(r.err.find("or --schedule none") != std::string::npos);
}
