// The shared trainer flow: see classifier_app.hpp.
#include "examples/common/classifier_app.hpp"

#include <omp.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "xgrad/core/error.hpp"
#include "examples/common/cli.hpp"
#include "examples/common/metadata_json.hpp"
#include "examples/common/output_paths.hpp"
#include "xgrad/training/progress.hpp"
#include "examples/common/run_record.hpp"
#include "examples/common/stop_signal.hpp"
#include "examples/common/training.hpp"
#include "xgrad/models/atomic_file.hpp"
#include "xgrad/models/checkpoint.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/sgd.hpp"

namespace xgrad::examples {

void add_classifier_flags(CLI::App& app, ClassifierConfig& c) {
  app.add_option("--epochs", c.epochs, "Epochs to train")->check(Whole(1, 1000))->capture_default_str();
  app.add_option("--batch-size", c.batch_size, "Images per step")
      ->check(Whole(1, 65536))
      ->capture_default_str();
  app.add_option("--lr", c.lr, "Learning rate (the peak rate for onecycle)")
      ->check(Number(1e-8, 10.0))
      ->capture_default_str();
  app.add_option("--optimizer", c.optimizer, "sgd (momentum 0.9, Nesterov) | adam | adamw")
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}))
      ->capture_default_str();
  app.add_option("--schedule", c.schedule, "Learning-rate schedule, stepped per batch")
      ->check(CLI::IsMember({"none", "step", "cosine", "onecycle"}))
      ->capture_default_str();
  app.add_option("--weight-decay", c.weight_decay, "Weight decay")->check(Number(0.0, 1.0))->capture_default_str();
  app.add_flag("--no-bn", c.no_bn, "The same network without batch normalization");
  app.add_option("--threads", c.threads, "OpenMP threads")->check(Whole(1, 256))->capture_default_str();
  app.add_option("--seed", c.seed, "Seed of weights, shuffling and augmentation")
      ->check(Whole(0, UINT64_MAX))
      ->capture_default_str();
  app.add_option("--limit", c.limit, "Train on the first N images only (0: all)")
      ->check(Whole(0, UINT64_MAX))
      ->capture_default_str();
  app.add_option("--checkpoint", c.checkpoint, "Save a checkpoint here after every epoch");
  app.add_option("--resume", c.resume, "Resume from this checkpoint");
  app.add_flag("--overwrite", c.overwrite, "Replace an existing --checkpoint file without resuming from it");
  app.add_option("--report", c.report, "Write a JSON report of the run here");
  app.add_option("--on-nan", c.on_nan,
                 "On a NaN or infinite loss, gradient or weight: stop (exit 1), or rollback to the last "
                 "--checkpoint with the learning rate divided by 10 and retry the epoch")
      ->check(CLI::IsMember({"stop", "rollback"}))
      ->capture_default_str();
  app.add_option("--max-rollbacks", c.max_rollbacks, "With --on-nan rollback: give up after this many")
      ->check(Whole(0, 10))
      ->capture_default_str();
  app.callback([&c, &app] {
    if (c.on_nan == "rollback" && c.checkpoint.empty()) {
      throw CLI::ValidationError("--on-nan", "rollback needs --checkpoint (the file it rolls back to)");
    }
    check_classifier_paths(c, [&app](const std::string& flag) { return app.count(flag) > 0; });
  });
}

void check_classifier_paths(const ClassifierConfig& c, const std::function<bool(const std::string&)>& given) {
  if (given("--resume") && c.resume.empty()) {
    throw CLI::ValidationError("--resume", "the path is empty (an unset variable?)");
  }
  const std::vector<std::string> data_files = files_in(c.data);
  std::vector<std::string> report_inputs = data_files;
  if (!c.resume.empty()) report_inputs.push_back(c.resume);  // --checkpoint may be --resume: it continues it
  check_output_paths({{"--checkpoint", c.checkpoint, given("--checkpoint"), data_files},
                      {"--report", c.report, given("--report"), report_inputs}});
  std::error_code error;
  if (!c.checkpoint.empty() && std::filesystem::exists(c.checkpoint, error) && !c.overwrite &&
      (c.resume.empty() || !same_file(c.resume, c.checkpoint))) {
    throw CLI::ValidationError("--checkpoint", "'" + c.checkpoint +
                                                   "' exists: add --resume " + c.checkpoint +
                                                   " to continue from it, or --overwrite to replace it");
  }
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
  try {
    if (c.schedule == "step") {
      return std::make_unique<StepLR>(optimizer, std::max<std::int64_t>(1, total / 3), 0.1);
    }
    if (c.schedule == "cosine") return std::make_unique<CosineAnnealingLR>(optimizer, total);
    if (c.schedule == "onecycle") return std::make_unique<OneCycleLR>(optimizer, c.lr, total);
  } catch (const Error& e) {
    // The schedule's own message names its arguments; the user needs the flags that made them.
    throw UsageError("--schedule " + c.schedule + " over " + std::to_string(total) + " steps (--epochs " +
                     std::to_string(c.epochs) + " x " + std::to_string(steps_per_epoch) +
                     " batches per epoch, from --batch-size and --limit) is impossible: " + e.what() +
                     ". Give more --epochs or images, a smaller --batch-size, or --schedule none");
  }
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

// The first epoch whose test accuracy reached `target`, with the training time up to its end (the epochs'
// training seconds summed; evaluation excluded): {"accuracy", "epoch", "seconds"}, or null.
nlohmann::json time_to_target(const nlohmann::json& epochs, double target) {
  double seconds = 0;
  for (const nlohmann::json& e : epochs) {
    seconds += e["seconds"].get<double>();
    if (e["test_accuracy"].get<double>() >= target)
      return {{"accuracy", target}, {"epoch", e["epoch"]}, {"seconds", seconds}};
  }
  return nullptr;
}

// Where training stands inside an epoch: after `completed` epochs, `steps` more batches done, with the data
// generators' states as they were when the epoch began (a resume draws the same batches again and skips
// the first `steps`).
struct Position {
  int completed = 0;
  std::size_t steps = 0;
  std::array<std::uint64_t, 4> shuffle{}, transform{};
};

Position epoch_start(int completed, DataLoader& train) {
  return {completed, 0, train.shuffle_generator().state(), train.transform_generator().state()};
}

// The batches of a mid-epoch checkpoint's epoch already trained on, from its metadata (0 for an epoch end).
std::size_t steps_in_epoch(const TrainingState& state) {
  const nlohmann::json metadata = to_json(state.metadata);
  const auto it = metadata.find("steps_in_epoch");
  return it != metadata.end() && it->is_number_unsigned() ? it->get<std::size_t>() : 0;
}

// Rank 0 alone writes the report.
void write_report(const ClassifierConfig& c, nlohmann::json& report, const DataParallelHooks& dp) {
  report["peak_rss_mb"] = peak_rss_mb();
  if (!c.report.empty() && dp.is_root()) write_file_atomically(c.report, report.dump(2) + "\n");
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

void apply_fast_recipe(ClassifierConfig& c, bool fashion, const std::function<bool(const char*)>& given) {
  // MNIST: one one-cycle pass at batch 128 (more images per second than 64, the same accuracy after one
  // epoch; 48,000 images were too few: 99.0% in 2 of 5 seeds); Fashion-MNIST: two passes.
  struct Recipe {
    int epochs;
    std::size_t batch_size, limit;
    double lr;
  };
  const Recipe r = fashion ? Recipe{2, 128, 0, 0.2} : Recipe{1, 128, 0, 0.15};
  if (!given("--epochs")) c.epochs = r.epochs;
  if (!given("--batch-size")) c.batch_size = r.batch_size;
  if (!given("--limit")) c.limit = r.limit;
  if (!given("--lr")) c.lr = r.lr;
  if (!given("--schedule")) c.schedule = "onecycle";
  if (!given("--optimizer")) c.optimizer = "sgd";
  if (!given("--threads")) c.threads = 2;
}

int run_classifier(const ClassifierConfig& c, const std::string& architecture, Module& model, DataLoader& train,
                   DataLoader& test, const DataParallelHooks& dp) {
  XGRAD_CHECK(dp.ranks == 1 || c.on_nan == "stop", "--on-nan rollback works on one process only (under mpirun a "
              "NaN on any rank stops every rank)");
  omp_set_num_threads(c.threads);
  // Under mpirun too: the ranks agree on a stop request at every step boundary (stop_agreed), so a signal
  // reaching one rank, or all of them a step apart, stops every rank after the same step.
  install_stop_handlers();
  auto optimizer = make_optimizer(c, model);
  auto scheduler = make_scheduler(c, *optimizer, train.size());
  nlohmann::json report = {{"config", config_json(c, architecture)}, {"epochs", nlohmann::json::array()}};
  if (dp.ranks > 1) {
    report["config"]["ranks"] = dp.ranks;
    report["config"]["sync_bn"] = dp.sync_bn;
  }

  const nlohmann::json dataset = dataset_record(c.dataset, dynamic_cast<const TensorDataset&>(train.dataset()),
                                                dynamic_cast<const TensorDataset&>(test.dataset()));
  double lr = c.lr;  // divided by 10 at each rollback
  int first_epoch = 1;
  std::size_t skip = 0;  // batches of first_epoch already trained (a checkpoint saved at a signal)
  nlohmann::json resumed_metadata;
  if (!c.resume.empty()) {
    // The run recorded in the file must be this one (data, settings) before anything is loaded.
    check_resume(c.resume, to_json(read_checkpoint_state(c.resume, model).metadata), architecture, dataset,
                 settings_record(c, lr), train.size());
    TrainingState state = load_checkpoint(c.resume, model, optimizer.get(), scheduler.get(),
                                          {&train.shuffle_generator(), &train.transform_generator()});
    first_epoch = static_cast<int>(state.epoch) + 1;
    skip = steps_in_epoch(state);
    resumed_metadata = to_json(state.metadata);
    if (resumed_metadata.contains("report_epochs")) report["epochs"] = resumed_metadata["report_epochs"];
    if (skip == 0) {
      std::fprintf(stderr, "resumed from %s after epoch %d\n", c.resume.c_str(), first_epoch - 1);
    } else {
      std::fprintf(stderr, "resumed from %s after step %zu of epoch %d\n", c.resume.c_str(), skip, first_epoch);
    }
  }

  // The loss of the run's first step, the yardstick of divergence (kept in checkpoints for resumes).
  double start_loss = std::numeric_limits<double>::quiet_NaN();
  if (!c.resume.empty()) {
    const nlohmann::json& m = resumed_metadata;
    if (m.contains("start_loss") && m["start_loss"].is_number()) start_loss = m["start_loss"].get<double>();
  }
  const StepCallback remember_start_loss = [&start_loss](std::size_t, double loss) {
    if (std::isnan(start_loss)) start_loss = loss;
    return true;
  };
  auto save = [&](const Position& at) {
    if (!dp.is_root()) return;
    TrainingState state;
    state.epoch = at.completed;
    state.step = static_cast<std::int64_t>(at.completed) * static_cast<std::int64_t>(train.size()) +
                 static_cast<std::int64_t>(at.steps);
    nlohmann::json metadata = {{"architecture", architecture},
                               {"dataset", dataset},
                               {"settings", settings_record(c, lr)},
                               {"report_epochs", report["epochs"]}};
    if (at.steps > 0) metadata["steps_in_epoch"] = at.steps;
    if (std::isfinite(start_loss)) metadata["start_loss"] = start_loss;
    state.metadata = to_metadata(metadata);
    Generator shuffle, transform;
    shuffle.set_state(at.shuffle);
    transform.set_state(at.transform);
    save_checkpoint(c.checkpoint, model, optimizer.get(), scheduler.get(), {&shuffle, &transform}, state);
  };
  const bool rollback = c.on_nan == "rollback";
  if (rollback) {  // where to return if the first epoch goes wrong
    Position start = epoch_start(first_epoch - 1, train);
    start.steps = skip;
    save(start);
  }
  int rollbacks = 0;

  for (int epoch = first_epoch; epoch <= c.epochs; ++epoch) {
    const std::string label = "epoch " + std::to_string(epoch) + "/" + std::to_string(c.epochs);
    Position position = epoch_start(epoch - 1, train);
    EpochResult r;
    try {
      r = train_epoch(model, train, *optimizer, scheduler.get(), epoch, label, remember_start_loss,
                      dp.average_gradients, skip);
      skip = 0;
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
      skip = steps_in_epoch(state);
      // The file now matches the new settings, so a second rollback (or --resume) can load it.
      Position back = epoch_start(static_cast<int>(state.epoch), train);
      back.steps = skip;
      save(back);
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
    if (r.stop_signal != 0 && r.steps < train.size()) {
      // Stopped inside the epoch: save that point (resuming finishes the epoch) and the report, then exit
      // with the shell's status for the signal.
      position.steps = r.steps;
      if (!c.checkpoint.empty()) save(position);
      report["stopped"] = {{"signal", signal_name(r.stop_signal)}, {"epoch", epoch}, {"step", r.steps}};
      write_report(c, report, dp);
      std::fprintf(stderr, "%s: stopped at step %zu of %zu in epoch %d%s%s\n", signal_name(r.stop_signal),
                   r.steps, train.size(), epoch, c.checkpoint.empty() ? "" : "; checkpoint saved to ",
                   c.checkpoint.c_str());
      return 128 + r.stop_signal;
    }
    if (dp.ranks > 1) reduce_over_ranks(r, dp);
    if (dp.is_root()) r.test_accuracy = evaluate(model, test);  // the same weights everywhere
    std::fprintf(stderr, "epoch %d: train loss %.4f, train accuracy %.2f%%, test accuracy %.2f%%, %.0f img/s\n",
                 epoch, r.train_loss, 100 * r.train_accuracy, 100 * r.test_accuracy, r.images_per_second);
    report["epochs"].push_back(epoch_json(r));
    if (c.target_accuracy > 0 && !report.contains("time_to_target")) {
      if (nlohmann::json reached = time_to_target(report["epochs"], c.target_accuracy); !reached.is_null()) {
        std::fprintf(stderr, "reached %.2f%% test accuracy after %.2f s of training\n", 100 * c.target_accuracy,
                     reached["seconds"].get<double>());
        report["time_to_target"] = std::move(reached);
      }
    }
    const std::string divergence = examples::divergence(r.train_loss, r.test_accuracy, start_loss);
    if (!divergence.empty()) {
      std::fprintf(stderr, "warning: training diverged in epoch %d: %s (lower --lr?)\n", epoch, divergence.c_str());
      report["divergence"].push_back({{"epoch", epoch}, {"reason", divergence}});
    }
    if (!c.checkpoint.empty() && rollback && r.train_loss > kDivergenceFactor * start_loss) {
      // A rollback must return to a point before the divergence, never to it.
      std::fprintf(stderr, "epoch %d not saved to %s: its loss diverged; a rollback returns to the epoch before\n",
                   epoch, c.checkpoint.c_str());
    } else if (!c.checkpoint.empty()) {
      save(epoch_start(epoch, train));
    }
    if (const int sig = stop_agreed(); sig != 0 && epoch < c.epochs) {  // collective: every rank asks
      report["stopped"] = {{"signal", signal_name(sig)}, {"epoch", epoch}, {"step", r.steps}};
      write_report(c, report, dp);
      std::fprintf(stderr, "%s: stopped after epoch %d\n", signal_name(sig), epoch);
      return 128 + sig;
    }
  }
  report["peak_rss_mb"] = peak_rss_mb();
  if (dp.ranks > 1) report["allreduce_seconds_per_step"] = dp.allreduce_seconds_per_step();
  if (!report["epochs"].empty()) {
    const auto& last = report["epochs"].back();
    std::printf("final: test accuracy %.2f%% after %d epochs, %.0f img/s, peak memory %.0f MB\n",
                100 * last["test_accuracy"].get<double>(), c.epochs, last["images_per_second"].get<double>(),
                report["peak_rss_mb"].get<double>());
  }
  write_report(c, report, dp);
  return 0;
}

}  // namespace xgrad::examples
