// libFuzzer harness for the trainers' command line: the input, split at NUL bytes, is the argument list of
// train_mnist (its --data and --dataset, then the shared flags of add_classifier_flags, as train_mnist adds
// them). Parsing must either succeed with every value inside its documented range, or throw a
// CLI::ParseError (a usage error, exit 2); any other exception, a crash, a sanitizer report or a hang is a
// finding. Parsing only reads the file system (the output path checks), it never writes.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "examples/common/classifier_app.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args{"train_mnist"};
  std::string current;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(current);
      current.clear();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  args.push_back(current);
  if (args.size() > 64) return 0;  // a long list says nothing a short one does not
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());

  xgrad::examples::ClassifierConfig c;
  c.data = "datasets/mnist";
  c.dataset = "mnist";
  CLI::App app("fuzz", "train_mnist");
  app.add_option("--data", c.data);
  app.add_option("--dataset", c.dataset)->check(CLI::IsMember({"mnist", "fashion"}));
  xgrad::examples::add_classifier_flags(app, c);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError&) {
    return 0;  // --help, or a usage error with its message
  }
  // Accepted: every value is one the trainer can use.
  const bool ok = c.epochs >= 1 && c.epochs <= 1000 && c.batch_size >= 1 && c.batch_size <= 65536 &&
                  std::isfinite(c.lr) && c.lr >= 1e-8 && c.lr <= 10 && std::isfinite(c.weight_decay) &&
                  c.weight_decay >= 0 && c.weight_decay <= 1 && c.threads >= 1 && c.threads <= 256 &&
                  c.max_rollbacks >= 0 && c.max_rollbacks <= 10 &&
                  (c.on_nan != "rollback" || !c.checkpoint.empty()) && (app.count("--report") == 0 || !c.report.empty()) &&
                  (app.count("--resume") == 0 || !c.resume.empty()) &&
                  (app.count("--checkpoint") == 0 || !c.checkpoint.empty());
  if (!ok) std::abort();
  return 0;
}
