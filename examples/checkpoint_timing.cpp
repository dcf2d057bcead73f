// checkpoint_timing: how long saving and loading a ~1M-parameter model takes, weights only and as a
// full training checkpoint with Adam's two moments (3M floats). Prints the median of a few runs.
//   ./build/checkpoint_timing [directory for the files, default: the system's temporary directory] [runs]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "examples/common/cli.hpp"
#include "xgrad/layers/activations.hpp"
#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/layers/dense.hpp"
#include "xgrad/models/checkpoint.hpp"
#include "xgrad/models/sequential.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;

namespace {

double median_seconds(int runs, const std::function<void()>& body) {
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    body();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir_name = std::filesystem::temp_directory_path().string();
  int runs = 5;
  CLI::App app("Time saving and loading a ~1M-parameter model's weights and full checkpoint.", "checkpoint_timing");
  app.add_option("dir", dir_name, "Folder for the files")->capture_default_str();
  app.add_option("runs", runs, "Runs per measurement (the median is printed)")
      ->check(xgrad::examples::Whole(1, 1000))
      ->capture_default_str();
  if (int status = examples::parse_command_line(app, argc, argv); status >= 0) return status;

  const std::filesystem::path dir(dir_name);
  try {
    // 784 -> 1024 -> 192: 803,840 + 196,800 weights and biases, plus BN's 2,048 and 3 buffers.
    Generator gen(0);
    Sequential model;
    model.add(std::make_shared<Dense>(784, 1024, gen));
    model.add(std::make_shared<BatchNorm1d>(1024));
    model.add(std::make_shared<ReLU>());
    model.add(std::make_shared<Dense>(1024, 192, gen));
    Adam opt(model.named_parameters(), AdamOptions{.lr = 1e-3});
    {  // one step so that Adam's moments exist and BN's statistics are not the defaults
      const Tensor x = randn({16, 784}, gen);
      Labels labels(16);
      for (auto& l : labels) l = static_cast<std::int32_t>(gen.below(192));
      cross_entropy(model(x), labels).backward();
      opt.step();
    }
    const std::string weights = (dir / "checkpoint_timing_weights.json").string();
    const std::string full = (dir / "checkpoint_timing_full.json").string();

    const double save_w = median_seconds(runs, [&] { save_weights(weights, model); });
    const double load_w = median_seconds(runs, [&] { load_weights(weights, model); });
    const double save_f =
        median_seconds(runs, [&] { save_checkpoint(full, model, &opt, nullptr, {&gen}, {1, 1, {}}); });
    const double load_f = median_seconds(runs, [&] { load_checkpoint(full, model, &opt, nullptr, {&gen}); });

    std::printf("model: %zu parameters; median of %d runs\n", model.parameter_count(), runs);
    std::printf("weights only:           %6.1f MB  save %6.3f s  load %6.3f s\n",
                std::filesystem::file_size(weights) / 1e6, save_w, load_w);
    std::printf("checkpoint with Adam:   %6.1f MB  save %6.3f s  load %6.3f s\n",
                std::filesystem::file_size(full) / 1e6, save_f, load_f);
    std::filesystem::remove(weights);
    std::filesystem::remove(full);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoint_timing: %s\n", e.what());
    return 1;
  }
  return 0;
}
