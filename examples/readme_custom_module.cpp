// A module of your own with a skip connection, trained with a plain loop, checkpointed after 5 of 8 epochs
// and resumed into a fresh model and optimizer: the resumed run ends bit for bit where the uninterrupted
// one does (weights, Adam's moments, the schedule and the shuffling all come back from the file).
//   ./build/readme_custom_module [CHECKPOINT_FILE]     default: residual_checkpoint.json
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

using namespace xgrad;

// out(h + fc2(relu(fc1(h)))) with h = relu(in(x)): x (N, 2) -> (N, 1).
struct ResidualMLP : Module {
  std::shared_ptr<Dense> in, fc1, fc2, out;
  explicit ResidualMLP(Generator& gen)
      : in(register_module("in", std::make_shared<Dense>(2, 32, gen))),
        fc1(register_module("fc1", std::make_shared<Dense>(32, 32, gen))),
        fc2(register_module("fc2", std::make_shared<Dense>(32, 32, gen))),
        out(register_module("out", std::make_shared<Dense>(32, 1, gen))) {}

  Tensor forward(const Tensor& x) override {
    Tensor h = relu((*in)(x));
    h = h + (*fc2)(relu((*fc1)(h)));  // the skip connection
    return (*out)(h);
  }
};

// One epoch of plain training steps; the schedule steps once per epoch. Returns the epoch's mean loss.
double run_epoch(ResidualMLP& model, Adam& optimizer, StepLR& schedule, DataLoader& loader) {
  double total = 0;
  for (const Batch& batch : loader) {
    optimizer.zero_grad();
    Tensor loss = mse_loss(model(batch.inputs), batch.targets);
    loss.backward();
    optimizer.step();
    total += loss.item() * double(batch.size());
  }
  schedule.step();
  return total / double(loader.dataset().size());
}

bool same_bits(const Module& a, const Module& b) {
  const StateDict sa = a.state_dict(), sb = b.state_dict();
  for (std::size_t i = 0; i < sa.size(); ++i) {
    const std::vector<float> va = sa[i].second.to_vector(), vb = sb[i].second.to_vector();
    if (va.size() != vb.size() || std::memcmp(va.data(), vb.data(), va.size() * sizeof(float)) != 0) return false;
  }
  return sa.size() == sb.size();
}

int main(int argc, char** argv) try {
  const std::string path = argc > 1 ? argv[1] : "residual_checkpoint.json";
  const int epochs = 8, interrupted_after = 5;
  Generator data_gen(7);
  Tensor x = uniform({512, 2}, -2, 2, data_gen);
  Tensor y = sin(x.index_select(1, tensor({0}))) * cos(x.index_select(1, tensor({1})));  // (512, 1)
  const TensorDataset data(x, y);
  const DataLoaderOptions batches{.batch_size = 32, .shuffle = true, .seed = 3};

  // The uninterrupted run.
  Generator gen(1);
  ResidualMLP model(gen);
  Adam optimizer(model.parameters(), {.lr = 0.01});
  StepLR schedule(optimizer, 3, 0.5);  // halves the learning rate every 3 epochs
  DataLoader loader(data, batches);
  for (int epoch = 1; epoch <= epochs; ++epoch)
    std::printf("epoch %d: loss %.9g\n", epoch, run_epoch(model, optimizer, schedule, loader));

  {  // The same run from the same seeds, stopped after `interrupted_after` epochs and saved.
    Generator gen(1);
    ResidualMLP model(gen);
    Adam optimizer(model.parameters(), {.lr = 0.01});
    StepLR schedule(optimizer, 3, 0.5);
    DataLoader loader(data, batches);
    for (int epoch = 1; epoch <= interrupted_after; ++epoch) run_epoch(model, optimizer, schedule, loader);
    save_checkpoint(path, model, &optimizer, &schedule, {&loader.shuffle_generator()}, {.epoch = interrupted_after});
  }

  // A fresh model (other initial weights), optimizer, schedule and loader (another seed), loaded from the file.
  Generator other(99);
  ResidualMLP resumed(other);
  Adam resumed_optimizer(resumed.parameters(), {.lr = 0.01});
  StepLR resumed_schedule(resumed_optimizer, 3, 0.5);
  DataLoader resumed_loader(data, {.batch_size = 32, .shuffle = true, .seed = 12345});
  const TrainingState state = load_checkpoint(path, resumed, &resumed_optimizer, &resumed_schedule,
                                              {&resumed_loader.shuffle_generator()});
  std::printf("resumed from %s after epoch %d\n", path.c_str(), int(state.epoch));
  for (int epoch = int(state.epoch) + 1; epoch <= epochs; ++epoch) {
    const double loss = run_epoch(resumed, resumed_optimizer, resumed_schedule, resumed_loader);
    std::printf("epoch %d: loss %.9g\n", epoch, loss);
  }
  const bool same = same_bits(model, resumed);
  std::printf("the resumed run equals the uninterrupted one bit for bit: %s\n", same ? "yes" : "NO");
  return same ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "readme_custom_module: %s\n", e.what());
  return 1;
}
