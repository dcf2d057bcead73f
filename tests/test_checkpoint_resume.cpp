// Exact resume: N steps, save, load into objects built from scratch (in a fresh process), M more steps
// gives bit-identical weights, BN running statistics, optimizer state, schedule and data generator to
// N + M steps without stopping. SGD and Adam, a Conv -> BatchNorm -> ReLU -> Dense model, a schedule and
// gradient clipping in play.
#include <catch2/catch.hpp>

#include <omp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>

#include "checkpoint_fixtures.hpp"
#include "xgrad/layers/activations.hpp"
#include "xgrad/layers/batch_norm.hpp"
#include "xgrad/layers/conv2d.hpp"
#include "xgrad/layers/dense.hpp"
#include "xgrad/layers/flatten.hpp"
#include "xgrad/models/checkpoint.hpp"
#include "xgrad/models/sequential.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/clipping.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using namespace xgrad::testing;

namespace {

constexpr int kBefore = 3;  // N
constexpr int kAfter = 3;   // M

enum class Kind { SGD, Adam, AdamW };

// Everything a training run owns, built from scratch; `init_seed` only matters for runs that do not load.
struct Run {
  Sequential model;
  std::unique_ptr<Optimizer> opt;
  std::unique_ptr<LRScheduler> sched;
  Generator data{42};

  Run(Kind kind, std::uint64_t init_seed) {
    Generator init(init_seed);
    model.add(std::make_shared<Conv2d>(1, 4, 3, init));
    model.add(std::make_shared<BatchNorm2d>(4));
    model.add(std::make_shared<ReLU>());
    model.add(std::make_shared<Flatten>());
    model.add(std::make_shared<Dense>(4 * 4 * 4, 3, init));
    if (kind == Kind::Adam) {
      opt = std::make_unique<Adam>(model.named_parameters(), AdamOptions{.lr = 0.01, .weight_decay = 1e-3});
      sched = std::make_unique<OneCycleLR>(*opt, 0.05, kBefore + kAfter);
    } else if (kind == Kind::AdamW) {
      opt = std::make_unique<AdamW>(model.named_parameters(), AdamWOptions{.lr = 0.01, .amsgrad = true});
      sched = std::make_unique<StepLR>(*opt, 2, 0.5);
    } else {
      opt = std::make_unique<SGD>(model.named_parameters(),
                                  SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3, .nesterov = true});
      sched = std::make_unique<CosineAnnealingLR>(*opt, kBefore + kAfter, 0.001);
    }
  }

  // Each step draws its batch from `data`, so resuming also needs the generator's state.
  void steps(int n) {
    for (int i = 0; i < n; ++i) {
      const Tensor x = randn({8, 1, 6, 6}, data);
      Labels labels;
      for (int k = 0; k < 8; ++k) labels.push_back(static_cast<std::int32_t>(data.below(3)));
      opt->zero_grad();
      cross_entropy(model(x), labels).backward();
      clip_grad_norm_(model.parameters(), 1.0);
      opt->step();
      sched->step();
    }
  }

  void save(const std::string& path, std::int64_t step) {
    save_checkpoint(path, model, opt.get(), sched.get(), {&data}, {0, step, {{"architecture", "conv-bn-relu-dense"}}});
  }
  void load(const std::string& path) { load_checkpoint(path, model, opt.get(), sched.get(), {&data}); }
};

// Runs `body` in a forked child with one OpenMP thread (all runs use the same count, and a forked child
// must not reuse the parent's thread pool); true if it exited cleanly.
bool in_child(const std::function<void()>& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    int code = 0;
    try {
      omp_set_num_threads(1);
      body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child failed: %s\n", e.what());
      code = 1;
    }
    std::fflush(nullptr);
    ::_exit(code);
  }
  int status = 0;
  return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void check_resume_in_fresh_processes(Kind kind) {
  TempDir dir;
  const std::string middle = dir.file("middle.json"), resumed = dir.file("resumed.json"),
                    straight = dir.file("straight.json");
  REQUIRE(in_child([&] {
    Run run(kind, 1);
    run.steps(kBefore);
    run.save(middle, kBefore);
  }));
  REQUIRE(in_child([&] {
    Run run(kind, 999);  // initialized differently: everything must come from the file
    run.load(middle);
    run.steps(kAfter);
    run.save(resumed, kBefore + kAfter);
  }));
  REQUIRE(in_child([&] {
    Run run(kind, 1);
    run.steps(kBefore + kAfter);
    run.save(straight, kBefore + kAfter);
  }));
  // The same bytes: weights, BN statistics, optimizer moments and steps, schedule and generator all agree.
  const std::string a = read_text(resumed), b = read_text(straight);
  REQUIRE_FALSE(a.empty());
  CHECK(a == b);
  // And the run really moved: the middle checkpoint differs from the final one.
  CHECK(read_text(middle) != b);
}

void check_resume_with_fresh_objects(Kind kind) {
  TempDir dir;
  const std::string middle = dir.file("middle.json");
  Run straight(kind, 1);
  straight.steps(kBefore);
  straight.save(middle, kBefore);
  straight.steps(kAfter);

  Run resumed(kind, 999);
  resumed.load(middle);
  resumed.steps(kAfter);
  const Snapshot want = snapshot(straight.model, straight.opt.get(), straight.sched.get(), {&straight.data});
  CHECK(snapshot(resumed.model, resumed.opt.get(), resumed.sched.get(), {&resumed.data}) == want);
  const auto buffers = resumed.model.named_buffers();
  REQUIRE(buffers.size() == 3);  // running_mean, running_var, num_batches_tracked of the BN
  CHECK(buffers[2].second.item() == static_cast<float>(kBefore + kAfter));
}

}  // namespace

TEST_CASE("exact resume with SGD in fresh processes", "[checkpoint][resume]") {
  check_resume_in_fresh_processes(Kind::SGD);
}
TEST_CASE("exact resume with Adam in fresh processes", "[checkpoint][resume]") {
  check_resume_in_fresh_processes(Kind::Adam);
}
TEST_CASE("exact resume with AdamW in fresh processes", "[checkpoint][resume]") {
  check_resume_in_fresh_processes(Kind::AdamW);
}
TEST_CASE("exact resume with SGD into fresh objects", "[checkpoint][resume]") {
  check_resume_with_fresh_objects(Kind::SGD);
}
TEST_CASE("exact resume with Adam into fresh objects", "[checkpoint][resume]") {
  check_resume_with_fresh_objects(Kind::Adam);
}
