// The NaN guard of the example trainers: training stops at the first NaN or infinity in the loss, a
// gradient, a weight or a buffer, naming the epoch and step, before the step is taken and before any
// checkpoint is written; with --on-nan rollback it reloads the last good checkpoint, divides the learning
// rate by 10 and retries, a bounded number of times. Unit tests of train_epoch on tiny models built to
// fail, then train_mnist runs on generated digits with a learning rate and weight decay that diverge.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "xgrad/core/ops/elementwise.hpp"
#include "xgrad/data/data_loader.hpp"
#include "example_runner.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/training/train_epoch.hpp"

using namespace xgrad;
using namespace example_runner;

namespace {

// logits = sqrt(x * w) on inputs of zeros: the loss is finite (ln 2 for two equal logits), but sqrt's
// derivative at 0 is infinite, so the gradient of w is NaN.
class SqrtAtZero : public Module {
 public:
  SqrtAtZero() { w_ = register_parameter("w", ones({1, 2})); }
  Tensor forward(const Tensor& x) override { return sqrt(x * w_); }  // x: (N, 2) -> (N, 2)
  std::string describe() const override { return "SqrtAtZero"; }
  Tensor w_;
};

// A linear layer whose buffer "seen" becomes infinite in training, as a running statistic can overflow.
class OverflowingBuffer : public Module {
 public:
  OverflowingBuffer() {
    w_ = register_parameter("w", ones({1, 2}));
    seen_ = register_buffer("seen", zeros({1}));
  }
  Tensor forward(const Tensor& x) override {
    if (is_training()) seen_.data()[0] += 3e38f;  // the second step overflows float: +infinity
    return x * w_;
  }
  std::string describe() const override { return "OverflowingBuffer"; }
  Tensor w_, seen_;
};

DataLoader two_batches(float value) {
  return DataLoader(TensorDataset(full({4, 2}, value), Labels{0, 1, 0, 1}), {.batch_size = 2});
}

}  // namespace

TEST_CASE("NaN guard: a non-finite gradient stops training before the step, naming the tensor",
          "[reliability][nan]") {
  SqrtAtZero model;
  SGD optimizer(model.named_parameters(), {.lr = 0.1});
  DataLoader loader = two_batches(0.0f);
  CHECK_THROWS_AS(train_epoch(model, loader, optimizer, {.epoch = 3}), NonFiniteError);
  CHECK_THROWS_WITH(train_epoch(model, loader, optimizer, {.epoch = 3}),
                    "training stopped: NaN in the gradient of 'w' at epoch 3, step 1 (the loss was 0.693147; "
                    "lower the learning rate?)");
  // The step was not taken: the weights are the initial ones.
  CHECK(model.w_.to_vector() == std::vector<float>{1, 1});
}

TEST_CASE("NaN guard: an infinite buffer at the end of an epoch stops training", "[reliability][nan]") {
  OverflowingBuffer model;
  SGD optimizer(model.named_parameters(), {.lr = 0.1});
  DataLoader loader = two_batches(1.0f);
  CHECK_THROWS_WITH(train_epoch(model, loader, optimizer, {.epoch = 2}),
                    "training stopped: an infinity in the buffer 'seen' after epoch 2, step 2 (lower the "
                    "learning rate?)");
}

TEST_CASE("NaN guard: train_mnist stops at the first NaN loss and writes no checkpoint", "[reliability][nan]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 300, 100);
  // Weight decay 1 at learning rate 10 multiplies the weights by about -9 every step: NaN within a few.
  const Run r = run(dir, "train_mnist",
                    "--data '" + data + "' --epochs 2 --limit 300 --batch-size 32 --seed 3 --no-bn --schedule none "
                    "--lr 10 --weight-decay 1 --checkpoint '" + (dir / "ckpt.json") + "'");
  CHECK(r.status == 1);
  CHECK(r.err.find("train_mnist: training stopped: the loss is NaN at epoch 1, step 4") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "ckpt.json"));
}

TEST_CASE("NaN guard: --on-nan rollback reloads the last checkpoint at a tenth of the rate and finishes",
          "[reliability][nan]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 300, 100);
  const std::string common = "--data '" + data + "' --limit 300 --batch-size 32 --seed 3 --no-bn --lr 10 " +
                             "--weight-decay 1 --on-nan rollback --checkpoint '" + (dir / "ckpt.json") + "'";
  // One cycle rises from 0.4 to 10 over the first 9 of its 30 steps; the weights diverge on the way up.
  Run r = run_ok(dir, "train_mnist", common + " --epochs 3 --report '" + (dir / "report.json") + "'");
  CHECK(r.err.find("rollback 1 of 3: back to " + (dir / "ckpt.json") + " after epoch 0, learning rate 1 "
                   "(resuming from it needs --lr 1); retrying") != std::string::npos);
  const json report = read_json(dir / "report.json");
  REQUIRE(report["rollbacks"].size() == 1);
  CHECK(report["rollbacks"][0]["epoch"] == 1);
  CHECK(report["rollbacks"][0]["lr"] == 1.0);
  CHECK(report["rollbacks"][0]["reason"].get<std::string>().find("the loss is NaN at epoch 1") != std::string::npos);
  REQUIRE(report["epochs"].size() == 3);
  CHECK(report["epochs"][2]["epoch"] == 3);

  // The checkpoint holds epoch 3 under the lowered schedule, and loads (every value finite, the settings
  // those of --lr 1): with the printed rate, not with the original one.
  const json checkpoint = read_json(dir / "ckpt.json");
  CHECK(checkpoint["epoch"] == 3);
  CHECK(checkpoint["scheduler"]["settings"].get<std::string>().find("OneCycleLR(max_lr=1,") == 0);
  const std::string resume = "--data '" + data + "' --limit 300 --batch-size 32 --seed 3 --no-bn --weight-decay 1 " +
                             "--epochs 3 --resume '" + (dir / "ckpt.json") + "'";
  r = run(dir, "train_mnist", resume + " --lr 1");
  CHECK(r.status == 0);
  CHECK(r.err.find("after epoch 3") != std::string::npos);
  r = run(dir, "train_mnist", resume + " --lr 10");
  CHECK(r.status == 2);  // a usage error naming the flag and the value to give
  CHECK(r.err.find("--lr is 10 but the checkpoint '" + (dir / "ckpt.json") + "' was trained with --lr 1: resume "
                   "with --lr 1") != std::string::npos);
}

TEST_CASE("NaN guard: rollbacks are bounded by --max-rollbacks", "[reliability][nan]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 300, 100);
  const Run r = run(dir, "train_mnist",
                    "--data '" + data + "' --epochs 2 --limit 300 --batch-size 32 --seed 3 --no-bn --schedule none "
                    "--lr 10 --weight-decay 1 --on-nan rollback --max-rollbacks 0 --checkpoint '" +
                        (dir / "ckpt.json") + "'");
  CHECK(r.status == 1);
  CHECK(r.err.find("the loss is NaN at epoch 1, step 4 (lower the learning rate?); gave up after 0 rollbacks "
                   "(learning rate 10)") != std::string::npos);
  // What the file holds is the state before the first epoch, saved for the rollback: whole and finite.
  CHECK(read_json(dir / "ckpt.json")["epoch"] == 0);
}
