// The benchmark's view of one framework running one case: a model built once, then step() as often as the
// timer asks. The xgrad and libtorch runners build the same network (the reference MNIST CNN or the
// CIFAR-style ResNet-9 of models/reference_networks.hpp) and train it with the same SGD; only the framework
// differs.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace xgrad::bench {

// What one timed window repeats: a training step (forward, backward, SGD step) or an inference forward.
struct BenchCase {
  bool train = true;
  bool batch_norm = true;
  int batch = 64;
  std::string network = "mnist";  // "mnist": (1, 28, 28) input; "resnet9": (3, 32, 32)
  std::string name() const {
    return std::string(train ? "train" : "infer") + (batch_norm ? "_bn" : "_nobn");
  }
};

// Input made up once: `count` batches of (batch, C, H, W) normalized pixels and labels in [0, 10), cycled
// through by the runners so that every framework sees the same data.
struct BenchData {
  int batch = 64;
  int channels = 1, height = 28, width = 28;
  std::vector<std::vector<float>> images;  // each batch * C * H * W values
  std::vector<std::vector<std::int32_t>> labels;
};
// The input shape of `network` ("mnist" or "resnet9"); throws for another name.
BenchData make_bench_data(const std::string& network, int batch, int count, std::uint64_t seed);

class Runner {
 public:
  virtual ~Runner() = default;
  virtual void set_threads(int threads) = 0;
  virtual void step() = 0;
  // The last training loss (NaN for inference): printed once as a sanity check that both frameworks learn.
  virtual double last_loss() const = 0;
};

std::unique_ptr<Runner> make_xgrad_runner(const BenchCase& c, const BenchData& data);
// Defined only when libtorch was found (XGRAD_BENCH_TORCH).
std::unique_ptr<Runner> make_torch_runner(const BenchCase& c, const BenchData& data);

}  // namespace xgrad::bench
