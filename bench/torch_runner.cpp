// The libtorch side of the training benchmark, built only when CMake finds Torch: the same networks as
// mnist_cnn and resnet9 (bias-free conv/dense before each BN, PyTorch's default initialization), the same
// SGD, at its
// best settings: at::set_num_threads(T) for its OpenMP pool, OpenBLAS at one thread (set by the caller),
// inference in eval mode under InferenceMode.
#include <torch/torch.h>

#include <limits>

#include "bench/runner.hpp"

namespace xgrad::bench {
namespace {

namespace nn = torch::nn;

nn::Sequential torch_mnist_cnn(bool bn) {
  nn::Sequential net;
  auto block = [&](int in, int out) {
    net->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).bias(!bn)));
    if (bn) net->push_back(nn::BatchNorm2d(out));
    net->push_back(nn::ReLU());
    net->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
  };
  block(1, 16);
  block(16, 32);
  net->push_back(nn::Flatten());
  net->push_back(nn::Linear(nn::LinearOptions(32 * 7 * 7, 128).bias(!bn)));
  if (bn) net->push_back(nn::BatchNorm1d(128));
  net->push_back(nn::ReLU());
  net->push_back(nn::Linear(128, 10));
  return net;
}

// y = x + body(x), as models/residual.hpp.
struct ResidualImpl : nn::Module {
  explicit ResidualImpl(nn::Sequential b) : body(register_module("body", b)) {}
  torch::Tensor forward(const torch::Tensor& x) { return x + body->forward(x); }
  nn::Sequential body;
};
TORCH_MODULE(Residual);

// resnet9 of models/reference_networks.hpp, layer for layer.
nn::Sequential torch_resnet9(bool bn) {
  auto conv_norm_relu = [&](nn::Sequential& net, int in, int out) {
    net->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).bias(!bn)));
    if (bn) net->push_back(nn::BatchNorm2d(out));
    net->push_back(nn::ReLU());
  };
  nn::Sequential net;
  conv_norm_relu(net, 3, 64);
  int in = 64;
  for (int out : {64, 128, 256}) {
    conv_norm_relu(net, in, out);
    net->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
    nn::Sequential body;
    conv_norm_relu(body, out, out);
    conv_norm_relu(body, out, out);
    net->push_back(Residual(body));
    in = out;
  }
  net->push_back(nn::AvgPool2d(nn::AvgPool2dOptions(4)));
  net->push_back(nn::Flatten());
  net->push_back(nn::Linear(256, 10));
  return net;
}

class TorchRunner : public Runner {
 public:
  TorchRunner(const BenchCase& c, const BenchData& data) : case_(c) {
    torch::manual_seed(1);
    net_ = c.network == "resnet9" ? torch_resnet9(c.batch_norm) : torch_mnist_cnn(c.batch_norm);
    for (std::size_t i = 0; i < data.images.size(); ++i) {
      inputs_.push_back(torch::from_blob(const_cast<float*>(data.images[i].data()),
                                         {data.batch, data.channels, data.height, data.width}, torch::kFloat32)
                            .clone());
      labels_.push_back(torch::from_blob(const_cast<std::int32_t*>(data.labels[i].data()), {data.batch},
                                         torch::kInt32).to(torch::kInt64));
    }
    if (c.train) {
      optimizer_ = std::make_unique<torch::optim::SGD>(net_->parameters(),
                                                       torch::optim::SGDOptions(0.01).momentum(0.9));
    } else {
      net_->eval();
    }
  }

  void set_threads(int threads) override { at::set_num_threads(threads); }

  void step() override {
    const std::size_t i = next_++ % inputs_.size();
    if (!case_.train) {
      c10::InferenceMode guard;
      torch::Tensor logits = net_->forward(inputs_[i]);
      sink_ += logits.data_ptr<float>()[0];
      return;
    }
    optimizer_->zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(net_->forward(inputs_[i]), labels_[i]);
    loss.backward();
    optimizer_->step();
    loss_ = loss.item<double>();
  }

  double last_loss() const override { return case_.train ? loss_ : std::numeric_limits<double>::quiet_NaN(); }

 private:
  BenchCase case_;
  nn::Sequential net_{nullptr};
  std::unique_ptr<torch::optim::SGD> optimizer_;
  std::vector<torch::Tensor> inputs_, labels_;
  std::size_t next_ = 0;
  double loss_ = 0;
  float sink_ = 0;
};

}  // namespace

std::unique_ptr<Runner> make_torch_runner(const BenchCase& c, const BenchData& data) {
  return std::make_unique<TorchRunner>(c, data);
}

}  // namespace xgrad::bench
