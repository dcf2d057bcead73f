// Shared by the checkpoint tests: a small nested module with parameters and a buffer, a temporary
// directory, file helpers, and a bit-exact snapshot of everything a checkpoint restores.
#pragma once
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/ops/elementwise.hpp"
#include "xgrad/core/ops/reduce.hpp"
#include "xgrad/layers/module.hpp"
#include "xgrad/optim/lr_scheduler.hpp"
#include "xgrad/optim/optimizer.hpp"

namespace xgrad::testing {

// y = x * weight + bias per feature; in training, running_mean tracks the batch mean like BN's buffer.
class Affine : public Module {
 public:
  Affine(std::size_t n, Generator& gen) {
    weight_ = register_parameter("weight", randn({n}, gen));
    bias_ = register_parameter("bias", randn({n}, gen));
    running_mean_ = register_buffer("running_mean", zeros({n}));
  }
  Tensor forward(const Tensor& x) override {  // x: (N, n)
    if (is_training()) {
      const Tensor batch_mean = mean(x.detach(), {0});
      float* r = running_mean_.data();
      for (std::size_t i = 0; i < running_mean_.numel(); ++i) r[i] = 0.9f * r[i] + 0.1f * batch_mean.data()[i];
    }
    return x * weight_ + bias_;
  }
  std::string describe() const override { return "Affine"; }

 private:
  Tensor weight_, bias_, running_mean_;
};

// Nested, so names are dotted: "first.weight", "second.inner.running_mean", plus a top-level "scale".
class TinyNet : public Module {
 public:
  explicit TinyNet(std::uint64_t seed) {
    Generator gen(seed);
    first_ = register_module("first", std::make_shared<Affine>(3, gen));
    auto second = std::make_shared<Wrapper>(gen);
    second_ = register_module("second", second);
    scale_ = register_parameter("scale", randn({2, 3}, gen));
  }
  Tensor forward(const Tensor& x) override { return (*second_)((*first_)(x)) * sum(scale_, {0}); }
  std::string describe() const override { return "TinyNet"; }

 private:
  struct Wrapper : Module {
    explicit Wrapper(Generator& gen) { inner = register_module("inner", std::make_shared<Affine>(3, gen)); }
    Tensor forward(const Tensor& x) override { return (*inner)(x); }
    std::string describe() const override { return "Wrapper"; }
    std::shared_ptr<Affine> inner;
  };
  std::shared_ptr<Affine> first_;
  std::shared_ptr<Wrapper> second_;
  Tensor scale_;
};

// One training step of TinyNet on a fixed random batch: loss = sum(y^2) / N.
inline void train_step(Module& net, Optimizer& opt, Generator& data) {
  const Tensor x = randn({4, 3}, data);
  opt.zero_grad();
  const Tensor y = net(x);
  (sum(y * y) / 4.0f).backward();
  opt.step();
}

// A fresh directory under the system's temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "xgrad_ckpt_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::vector<std::uint32_t> bits(const Tensor& t) {
  std::vector<std::uint32_t> out(t.numel());
  std::memcpy(out.data(), t.data(), t.numel() * sizeof(float));
  return out;
}

// Everything load_checkpoint may change, as exact bits.
struct Snapshot {
  std::map<std::string, std::vector<std::uint32_t>> tensors;
  std::map<std::string, std::int64_t> steps;
  std::vector<double> lrs, decays, base_lrs;
  std::int64_t last_epoch = -1;
  std::vector<std::array<std::uint64_t, 4>> generators;
  bool operator==(const Snapshot&) const = default;
};

inline Snapshot snapshot(const Module& net, const Optimizer* opt = nullptr, const LRScheduler* sched = nullptr,
                         const std::vector<Generator*>& gens = {}) {
  Snapshot s;
  for (const auto& [name, t] : net.named_parameters()) s.tensors["p:" + name] = bits(t);
  for (const auto& [name, t] : net.named_buffers()) s.tensors["b:" + name] = bits(t);
  if (opt) {
    const OptimizerState state = opt->state_dict();
    for (const auto& g : state.param_groups) {
      s.lrs.push_back(g.lr);
      s.decays.push_back(g.weight_decay);
    }
    for (const auto& [name, ps] : state.state) {
      s.steps[name] = ps.step;
      for (const auto& [buffer, t] : ps.buffers) s.tensors["o:" + name + "/" + buffer] = bits(t);
    }
  }
  if (sched) {
    s.base_lrs = sched->base_lrs();
    s.last_epoch = sched->last_epoch();
  }
  for (const Generator* g : gens) s.generators.push_back(g->state());
  return s;
}

}  // namespace xgrad::testing
