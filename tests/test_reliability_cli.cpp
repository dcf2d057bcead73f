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
      {"train_mnist", "--seed x", "Could not convert: --seed = x"},
      {"train_mnist", "--on-nan retry", "--on-nan: retry not in {stop,rollback}"},
      {"train_mnist", "--on-nan rollback", "--on-nan: rollback needs --checkpoint"},
      {"train_mnist", "--max-rollbacks 11 --on-nan rollback --checkpoint x",
       "--max-rollbacks: Value 11 not in range 0 to 10"},
      {"train_cifar10", "--bogus", "The following argument was not expected: --bogus"},
      {"train_cifar10", "--on-nan rollback", "--on-nan: rollback needs --checkpoint"},
      {"train_cifar10", "--weight-decay 2", "--weight-decay: Value 2 not in range"},
      {"make_synthetic_data", "--format mnist --out x --bogus", "The following argument was not expected: --bogus"},
      {"make_synthetic_data", "--format mnist --out x --train", "--train: 1 required"},
      {"make_synthetic_data", "--format mnist --out x --train 4", "--train: Value 4 not in range 5 to 1000000"},
      {"make_synthetic_data", "--format png --out x", "--format: png not in {mnist,cifar10}"},
      {"quickstart", "--bogus", "The following argument was not expected: --bogus"},
      {"quickstart", "a b c", "The following argument was not expected: c"},
      {"data_check", "", "dirs is required"},
      {"data_check", "datasets/mnist --bogus", "The following argument was not expected: --bogus"},
      {"checkpoint_timing", "--bogus", "The following argument was not expected: --bogus"},
      {"checkpoint_timing", "/tmp 0", "runs: Value 0 not in range 1 to 1000"},
      {"checkpoint_timing", "/tmp many", "runs: Value many not in range 1 to 1000"},
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
