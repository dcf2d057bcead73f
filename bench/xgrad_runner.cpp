// The xgrad side of the training benchmark: the reference network (MNIST CNN or ResNet-9) trained with SGD (momentum 0.9), or
// run for inference in eval mode under no-grad with its BatchNorms folded into the conv/dense before them.
#include <omp.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include "bench/runner.hpp"
#include "xgrad/core/autograd.hpp"
#include "xgrad/core/ops/loss.hpp"
#include "xgrad/models/fuse.hpp"
#include "xgrad/models/reference_networks.hpp"
#include "xgrad/optim/sgd.hpp"

namespace xgrad::bench {

BenchData make_bench_data(const std::string& network, int batch, int count, std::uint64_t seed) {
  BenchData data;
  data.batch = batch;
  if (network == "resnet9") {
    data.channels = 3, data.height = 32, data.width = 32;
  } else if (network != "mnist") {
    throw std::invalid_argument("unknown network '" + network + "' (mnist, resnet9)");
  }
  std::mt19937_64 gen(seed);
  // Pixels in [0, 1) normalized with MNIST's mean and std, as train_mnist feeds them.
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  std::uniform_int_distribution<int> label(0, 9);
  const std::size_t image = std::size_t(data.channels) * data.height * data.width;
  for (int b = 0; b < count; ++b) {
    std::vector<float> x(std::size_t(batch) * image);
    for (float& v : x) v = (pixel(gen) - 0.1307f) / 0.3081f;
    std::vector<std::int32_t> y(static_cast<std::size_t>(batch));
    for (auto& v : y) v = label(gen);
    data.images.push_back(std::move(x));
    data.labels.push_back(std::move(y));
  }
  return data;
}

namespace {

class XgradRunner : public Runner {
 public:
  XgradRunner(const BenchCase& c, const BenchData& data) : case_(c) {
    const Normalization norm = c.batch_norm ? Normalization::Batch : Normalization::None;
    model_ = c.network == "resnet9" ? resnet9(norm, 1) : mnist_cnn(norm, 1);
    for (const auto& x : data.images) {
      inputs_.push_back(from_vector(x, {std::size_t(data.batch), std::size_t(data.channels),
                                        std::size_t(data.height), std::size_t(data.width)}));
    }
    labels_ = data.labels;
    if (c.train) {
      optimizer_ = std::make_unique<SGD>(model_->named_parameters(), SGDOptions{.lr = 0.01, .momentum = 0.9});
    } else {
      model_->eval();
      if (c.batch_norm) model_ = fuse_conv_bn(*model_);
    }
  }

  void set_threads(int threads) override { omp_set_num_threads(threads); }

  void step() override {
    const std::size_t i = next_++ % inputs_.size();
    if (!case_.train) {
      NoGradGuard no_grad;
      Tensor logits = (*model_)(inputs_[i]);
      sink_ += logits.data()[0];
      return;
    }
    optimizer_->zero_grad();
    Tensor loss = cross_entropy((*model_)(inputs_[i]), labels_[i]);
    loss.backward();
    optimizer_->step();
    loss_ = loss.item();
  }

  double last_loss() const override { return case_.train ? loss_ : std::numeric_limits<double>::quiet_NaN(); }

 private:
  BenchCase case_;
  std::shared_ptr<Sequential> model_;
  std::unique_ptr<SGD> optimizer_;
  std::vector<Tensor> inputs_;
  std::vector<Labels> labels_;
  std::size_t next_ = 0;
  double loss_ = 0;
  float sink_ = 0;  // keeps the inference output observable
};

}  // namespace

std::unique_ptr<Runner> make_xgrad_runner(const BenchCase& c, const BenchData& data) {
  return std::make_unique<XgradRunner>(c, data);
}

}  // namespace xgrad::bench
