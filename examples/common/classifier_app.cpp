// The shared trainer flow: see classifier_app.hpp.
#include "examples/common/classifier_app.hpp"

#include <omp.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "xgrad/core/error.hpp"
#include "examples/common/progress.hpp"
#include "examples/common/training.hpp"
#include "xgrad/models/atomic_file.hpp"
#include "xgrad/models/checkpoint.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/sgd.hpp"

namespace xgrad::examples {

void add_classifier_flags(CLI::App& app, ClassifierConfig& c) {
  app.add_option("--epochs", c.epochs, "Epochs to train")->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--batch-size", c.batch_size, "Images per step")
      ->check(CLI::Range(std::size_t{1}, std::size_t{65536}))
      ->capture_default_str();
  app.add_option("--lr", c.lr, "Learning rate (the peak rate for onecycle)")
      ->check(CLI::Range(1e-8, 10.0))
      ->capture_default_str();
  app.add_option("--optimizer", c.optimizer, "sgd (momentum 0.9, Nesterov) | adam | adamw")
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}))
      ->capture_default_str();
  app.add_option("--schedule", c.schedule, "Learning-rate schedule, stepped per batch")
      ->check(CLI::IsMember({"none", "step", "cosine", "onecycle"}))
      ->capture_default_str();
  app.add_option("--weight-decay", c.weight_decay, "Weight decay")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app.add_flag("--no-bn", c.no_bn, "The same network without batch normalization");
  app.add_option("--threads", c.threads, "OpenMP threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--seed", c.seed, "Seed of weights, shuffling and augmentation")->capture_default_str();
  app.add_option("--limit", c.limit, "Train on the first N images only (0: all)")->capture_default_str();
  app.add_option("--checkpoint", c.checkpoint, "Save a checkpoint here after every epoch");
  app.add_option("--resume", c.resume, "Resume from this checkpoint");
  app.add_option("--report", c.report, "Write a JSON report of the run here");
  app.add_option("--on-nan", c.on_nan,
                 "On a NaN or infinite loss, gradient or weight: stop (exit 1), or rollback to the last "
                 "--checkpoint with the learning rate divided by 10 and retry the epoch")
      ->check(CLI::IsMember({"stop", "rollback"}))
      ->capture_default_str();
  app.add_option("--max-rollbacks", c.max_rollbacks, "With --on-nan rollback: give up after this many")
      ->check(CLI::Range(0, 10))
      ->capture_default_str();
  app.callback([&c] {
    if (c.on_nan == "rollback" && c.checkpoint.empty()) {
      throw CLI::ValidationError("--on-nan", "rollback needs --checkpoint (the file it rolls back to)");
    }
  });
}

std::unique_ptr<Optimizer> make_optimizer(const ClassifierConfig& c, Module& model) {
  if (c.optimizer == "adam") {
    return std::make_unique<Adam>(model.named_parameters(), AdamOptions{.lr = c.lr, .weight_decay = c.weight_decay});
  }
  if (c.optimizer == "adamw") {
    return std::make_unique<AdamW>(model.named_parameters(),
                                   AdamWOptions{.lr = c.lr, .weight_decay = c.weight_decay});
  }
  return std::make_unique<SGD>(model.named_parameters(), SGDOptions{.lr = c.lr, .momentum = 0.9,
                                                                    .weight_decay = c.weight_decay,
                                                                    .nesterov = true});
}

std::unique_ptr<LRScheduler> make_scheduler(const ClassifierConfig& c, Optimizer& optimizer,
                                            std::size_t steps_per_epoch) {
  const auto total = static_cast<std::int64_t>(steps_per_epoch) * c.epochs;
  if (c.schedule == "step") {
    return std::make_unique<StepLR>(optimizer, std::max<std::int64_t>(1, total / 3), 0.1);
  }
  if (c.schedule == "cosine") return std::make_unique<CosineAnnealingLR>(optimizer, total);
  if (c.schedule == "onecycle") return std::make_unique<OneCycleLR>(optimizer, c.lr, total);
  return nullptr;
}

namespace {

// The shortest text that reads back as x: "0.005", not "0.0050000000000000001".
std::string num_str(double x) {
  char buffer[32];
  return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, x).ptr);
}

nlohmann::json config_json(const ClassifierConfig& c, const std::string& architecture) {
  return {{"data", c.data},         {"dataset", c.dataset},   {"epochs", c.epochs},
          {"batch_size", c.batch_size}, {"lr", c.lr},         {"optimizer", c.optimizer},
          {"schedule", c.schedule}, {"weight_decay", c.weight_decay}, {"batch_norm", !c.no_bn},
          {"threads", c.threads},   {"seed", c.seed},         {"limit", c.limit},
          {"on_nan", c.on_nan},     {"max_rollbacks", c.max_rollbacks}, {"architecture", architecture}};
}

// After a rollback: a new optimizer and schedule built for learning rate `lr`, carrying over the state just
// loaded (momentum or moments, the schedule's position), so training goes on as before with smaller steps.
// The scheduler is replaced first: it refers to the optimizer.
void lower_learning_rate(const ClassifierConfig& c, double lr, Module& model, std::size_t steps_per_epoch,
                         std::unique_ptr<Optimizer>& optimizer, std::unique_ptr<LRScheduler>& scheduler) {
  ClassifierConfig lowered = c;
  lowered.lr = lr;
  auto new_optimizer = make_optimizer(lowered, model);
  OptimizerState state = optimizer->state_dict();
  for (auto& group : state.param_groups) group.lr = lowered.lr;  // the schedules take their base rates from here
  new_optimizer->load_state_dict(state);
  auto new_scheduler = make_scheduler(lowered, *new_optimizer, steps_per_epoch);
  if (new_scheduler) {
    new_scheduler->load_state_dict({scheduler->last_epoch(), new_scheduler->base_lrs()});
    const std::vector<double> lrs = new_scheduler->get_last_lr();
    for (std::size_t g = 0; g < lrs.size(); ++g) new_optimizer->set_lr(g, lrs[g]);
  }
  scheduler = std::move(new_scheduler);
  optimizer = std::move(new_optimizer);
}

nlohmann::json epoch_json(const EpochResult& r) {
  return {{"epoch", r.epoch},
          {"train_loss", r.train_loss},
          {"train_accuracy", r.train_accuracy},
          {"test_accuracy", r.test_accuracy},
          {"images_per_second", r.images_per_second},
          {"seconds", r.seconds}};
}

// The epoch's training figures over every rank: losses and accuracies weighted by the ranks' samples,
// images per second as all images over the slowest rank's time.
void reduce_over_ranks(EpochResult& r, const DataParallelHooks& dp) {
  const double n = double(r.samples);
  double sums[3] = {r.train_loss * n, r.train_accuracy * n, n};
  dp.allreduce(sums, 3, false);
  double seconds = r.seconds;
  dp.allreduce(&seconds, 1, true);
  r.train_loss = sums[2] > 0 ? sums[0] / sums[2] : 0.0;
  r.train_accuracy = sums[2] > 0 ? sums[1] / sums[2] : 0.0;
  r.samples = static_cast<std::size_t>(sums[2]);
  r.seconds = seconds;
  r.images_per_second = seconds > 0 ? sums[2] / seconds : 0.0;
}

}  // namespace

int run_classifier(const ClassifierConfig& c, const std::string& architecture, Module& model, DataLoader& train,
                   DataLoader& test, const DataParallelHooks& dp) {
  XGRAD_CHECK(dp.ranks == 1 || c.on_nan == "stop", "--on-nan rollback works on one process only (under mpirun a "
              "NaN on any rank stops every rank)");
  omp_set_num_threads(c.threads);
  auto optimizer = make_optimizer(c, model);
  auto scheduler = make_scheduler(c, *optimizer, train.size());
  nlohmann::json report = {{"config", config_json(c, architecture)}, {"epochs", nlohmann::json::array()}};
  if (dp.ranks > 1) {
    report["config"]["ranks"] = dp.ranks;
    report["config"]["sync_bn"] = dp.sync_bn;
  }

  int first_epoch = 1;
  if (!c.resume.empty()) {
    TrainingState state = load_checkpoint(c.resume, model, optimizer.get(), scheduler.get(),
                                          {&train.shuffle_generator(), &train.transform_generator()});
    first_epoch = static_cast<int>(state.epoch) + 1;
    if (state.metadata.contains("report_epochs")) report["epochs"] = state.metadata["report_epochs"];
    std::fprintf(stderr, "resumed from %s after epoch %d\n", c.resume.c_str(), first_epoch - 1);
  }

  auto save = [&](int epoch) {
    if (!dp.is_root()) return;
    TrainingState state;
    state.epoch = epoch;
    state.step = static_cast<std::int64_t>(epoch) * static_cast<std::int64_t>(train.size());
    state.metadata = {{"architecture", architecture}, {"report_epochs", report["epochs"]}};
    save_checkpoint(c.checkpoint, model, optimizer.get(), scheduler.get(),
                    {&train.shuffle_generator(), &train.transform_generator()}, state);
  };
  const bool rollback = c.on_nan == "rollback";
  if (rollback) save(first_epoch - 1);  // where to return if the first epoch goes wrong
  int rollbacks = 0;
  double lr = c.lr;  // divided by 10 at each rollback

  for (int epoch = first_epoch; epoch <= c.epochs; ++epoch) {
    const std::string label = "epoch " + std::to_string(epoch) + "/" + std::to_string(c.epochs);
    EpochResult r;
    try {
      r = train_epoch(model, train, *optimizer, scheduler.get(), epoch, label, nullptr, dp.average_gradients);
    } catch (const NonFiniteError& e) {
      if (!rollback) throw;
      if (rollbacks == c.max_rollbacks) {
        throw NonFiniteError(std::string(e.what()) + "; gave up after " + std::to_string(rollbacks) +
                             " rollbacks (learning rate " + num_str(lr) + ")");
      }
      ++rollbacks;
      lr = c.lr / std::pow(10.0, rollbacks);  // exact powers of 10: --lr with the printed value gives this lr
      const TrainingState state = load_checkpoint(c.checkpoint, model, optimizer.get(), scheduler.get(),
                                                  {&train.shuffle_generator(), &train.transform_generator()});
      lower_learning_rate(c, lr, model, train.size(), optimizer, scheduler);
      // The file now matches the new settings, so a second rollback (or --resume) can load it.
      save(static_cast<int>(state.epoch));
      std::fprintf(stderr,
                   "%s\nrollback %d of %d: back to %s after epoch %d, learning rate %s (resuming from it needs "
                   "--lr %s); retrying\n",
                   e.what(), rollbacks, c.max_rollbacks, c.checkpoint.c_str(), static_cast<int>(state.epoch),
                   num_str(lr).c_str(), num_str(lr).c_str());
      report["rollbacks"].push_back({{"epoch", epoch},
                                     {"reason", e.what()},
                                     {"resumed_after_epoch", state.epoch},
                                     {"lr", lr}});
      epoch = static_cast<int>(state.epoch);  // the loop's ++ retries the epoch after it
      continue;
    }
    if (dp.ranks > 1) reduce_over_ranks(r, dp);
    if (dp.is_root()) r.test_accuracy = evaluate(model, test);  // the same weights everywhere
    std::fprintf(stderr, "epoch %d: train loss %.4f, train accuracy %.2f%%, test accuracy %.2f%%, %.0f img/s\n",
                 epoch, r.train_loss, 100 * r.train_accuracy, 100 * r.test_accuracy, r.images_per_second);
    report["epochs"].push_back(epoch_json(r));
    if (!c.checkpoint.empty()) save(epoch);
  }
  report["peak_rss_mb"] = peak_rss_mb();
  if (!report["epochs"].empty()) {
    const auto& last = report["epochs"].back();
    std::printf("final: test accuracy %.2f%% after %d epochs, %.0f img/s, peak memory %.0f MB\n",
                100 * last["test_accuracy"].get<double>(), c.epochs, last["images_per_second"].get<double>(),
                report["peak_rss_mb"].get<double>());
  }
  if (!c.report.empty() && dp.is_root()) write_file_atomically(c.report, report.dump(2) + "\n");
  return 0;
}

}  // namespace xgrad::examples
