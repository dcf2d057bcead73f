// run_classifier (classifier_app.hpp): the trainers' run on the library's fit. fit trains the epochs and
// evaluates the test set; the TrainerCallback here adds what belongs to a command-line trainer: the start
// loss and the stop signal after every step; the log line, the JSON report, the divergence warning and the
// checkpoint (with the run's settings and data set for --resume) after every epoch. A NaN ends fit with a
// NonFiniteError; --on-nan rollback then reloads the last checkpoint, lowers the learning rate and calls fit
// again from there.
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

#include "examples/common/classifier_app.hpp"
#include "examples/common/metadata_json.hpp"
#include "examples/common/run_record.hpp"
#include "examples/common/stop_signal.hpp"
#include "examples/common/training.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/number_text.hpp"
#include "xgrad/core/ops/loss.hpp"
#include "xgrad/models/atomic_file.hpp"
#include "xgrad/models/checkpoint.hpp"
#include "xgrad/training/fit.hpp"
#include "xgrad/training/progress.hpp"

namespace xgrad::examples {
namespace {

nlohmann::json config_json(const ClassifierConfig& c, const std::string& architecture) {
  return {{"data", c.data},         {"dataset", c.dataset},   {"epochs", c.epochs},
          {"batch_size", c.batch_size}, {"lr", c.lr},         {"optimizer", c.optimizer},
          {"schedule", c.schedule}, {"weight_decay", c.weight_decay}, {"batch_norm", !c.no_bn},
          {"pct_start", c.pct_start}, {"label_smoothing", c.label_smoothing},
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

// Everything a run keeps between epochs and across fit calls (a rollback calls fit again).
struct Run {
  const ClassifierConfig& c;
  const std::string& architecture;
  Module& model;
  DataLoader& train;
  DataLoader& test;
  const DataParallelHooks& dp;
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<LRScheduler> scheduler;
  nlohmann::json report, dataset;
  double lr;  // divided by 10 at each rollback
  // The loss of the run's first step, the yardstick of divergence (kept in checkpoints for resumes).
  double start_loss = std::numeric_limits<double>::quiet_NaN();
  int exit_status = -1;  // 128 + the signal when one stopped the run

  void save(const Position& at) const {
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
  }
};

// The trainer's part of each fit step and epoch (see the top of the file).
class TrainerCallback : public Callback {
 public:
  explicit TrainerCallback(Run& run) : run_(run) {}

  void on_epoch_begin(FitContext& f) override {
    position_ = epoch_start(f.epoch - 1, run_.train);
    stop_signal_ = 0;
  }

  bool on_step_end(FitContext&, std::size_t, double loss) override {
    if (std::isnan(run_.start_loss)) run_.start_loss = loss;
    return (stop_signal_ = stop_agreed()) == 0;  // the step boundary: a consistent state to save (all ranks agree)
  }

  bool on_epoch_end(FitContext& f, const EpochLogs& logs) override;

  int epoch() const { return position_.completed + 1; }  // the epoch in progress

 private:
  Run& run_;
  Position position_;  // where the epoch began
  int stop_signal_ = 0;
};

bool TrainerCallback::on_epoch_end(FitContext& f, const EpochLogs& logs) {
  const ClassifierConfig& c = run_.c;
  const int epoch = f.epoch;
  const EpochStats& s = f.stats;
  EpochResult r;
  r.epoch = epoch;
  r.steps = s.steps;
  r.stop_signal = stop_signal_;
  r.seconds = s.seconds;
  r.samples = s.samples;
  r.train_loss = s.loss;
  r.train_accuracy = s.samples ? s.accuracy : 0.0;
  r.images_per_second = s.samples_per_second;
  if (r.stop_signal != 0 && r.steps < run_.train.size()) {
    // Stopped inside the epoch: save that point (resuming finishes the epoch) and the report, then exit
    // with the shell's status for the signal.
    Position position = position_;
    position.steps = r.steps;
    if (!c.checkpoint.empty()) run_.save(position);
    run_.report["stopped"] = {{"signal", signal_name(r.stop_signal)}, {"epoch", epoch}, {"step", r.steps}};
    write_report(c, run_.report, run_.dp);
    std::fprintf(stderr, "%s: stopped at step %zu of %zu in epoch %d%s%s\n", signal_name(r.stop_signal), r.steps,
                 run_.train.size(), epoch, c.checkpoint.empty() ? "" : "; checkpoint saved to ", c.checkpoint.c_str());
    run_.exit_status = 128 + r.stop_signal;
    return false;
  }
  if (run_.dp.ranks > 1) reduce_over_ranks(r, run_.dp);
  if (run_.dp.is_root()) r.test_accuracy = logs.at("val_accuracy");  // fit evaluated the test set on rank 0
  std::fprintf(stderr, "epoch %d: train loss %.4f, train accuracy %.2f%%, test accuracy %.2f%%, %.0f img/s\n",
               epoch, r.train_loss, 100 * r.train_accuracy, 100 * r.test_accuracy, r.images_per_second);
  nlohmann::json& report = run_.report;
  report["epochs"].push_back(epoch_json(r));
  if (c.target_accuracy > 0 && !report.contains("time_to_target")) {
    if (nlohmann::json reached = time_to_target(report["epochs"], c.target_accuracy); !reached.is_null()) {
      std::fprintf(stderr, "reached %.2f%% test accuracy after %.2f s of training\n", 100 * c.target_accuracy,
                   reached["seconds"].get<double>());
      report["time_to_target"] = std::move(reached);
    }
  }
  const std::string divergence = examples::divergence(r.train_loss, r.test_accuracy, run_.start_loss);
  if (!divergence.empty()) {
    std::fprintf(stderr, "warning: training diverged in epoch %d: %s (lower --lr?)\n", epoch, divergence.c_str());
    report["divergence"].push_back({{"epoch", epoch}, {"reason", divergence}});
  }
  const bool rollback = c.on_nan == "rollback";
  if (!c.checkpoint.empty() && rollback && r.train_loss > kDivergenceFactor * run_.start_loss) {
    // A rollback must return to a point before the divergence, never to it.
    std::fprintf(stderr, "epoch %d not saved to %s: its loss diverged; a rollback returns to the epoch before\n",
                 epoch, c.checkpoint.c_str());
  } else if (!c.checkpoint.empty()) {
    run_.save(epoch_start(epoch, run_.train));
  }
  if (const int sig = stop_agreed(); sig != 0 && epoch < c.epochs) {  // collective: every rank asks
    report["stopped"] = {{"signal", signal_name(sig)}, {"epoch", epoch}, {"step", r.steps}};
    write_report(c, report, run_.dp);
    std::fprintf(stderr, "%s: stopped after epoch %d\n", signal_name(sig), epoch);
    run_.exit_status = 128 + sig;
    return false;
  }
  return true;
}

}  // namespace

int run_classifier(const ClassifierConfig& c, const std::string& architecture, Module& model, DataLoader& train,
                   DataLoader& test, const DataParallelHooks& dp) {
  XGRAD_CHECK(dp.ranks == 1 || c.on_nan == "stop", "--on-nan rollback works on one process only (under mpirun a "
              "NaN on any rank stops every rank)");
  omp_set_num_threads(c.threads);
  // Under mpirun too: the ranks agree on a stop request at every step boundary (stop_agreed), so a signal
  // reaching one rank, or all of them a step apart, stops every rank after the same step.
  install_stop_handlers();
  Run run{c, architecture, model, train, test, dp, make_optimizer(c, model), nullptr, {}, {}, c.lr};
  run.scheduler = make_scheduler(c, *run.optimizer, train.size());
  run.report = {{"config", config_json(c, architecture)}, {"epochs", nlohmann::json::array()}};
  if (dp.ranks > 1) {
    run.report["config"]["ranks"] = dp.ranks;
    run.report["config"]["sync_bn"] = dp.sync_bn;
  }
  run.dataset = dataset_record(c.dataset, dynamic_cast<const TensorDataset&>(train.dataset()),
                               dynamic_cast<const TensorDataset&>(test.dataset()));
  int first_epoch = 1;
  std::size_t skip = 0;  // batches of first_epoch already trained (a checkpoint saved at a signal)
  if (!c.resume.empty()) {
    // The run recorded in the file must be this one (data, settings) before anything is loaded.
    check_resume(c.resume, to_json(read_checkpoint_state(c.resume, model).metadata), architecture, run.dataset,
                 settings_record(c, run.lr), train.size());
    TrainingState state = load_checkpoint(c.resume, model, run.optimizer.get(), run.scheduler.get(),
                                          {&train.shuffle_generator(), &train.transform_generator()});
    first_epoch = static_cast<int>(state.epoch) + 1;
    skip = steps_in_epoch(state);
    const nlohmann::json metadata = to_json(state.metadata);
    if (metadata.contains("report_epochs")) run.report["epochs"] = metadata["report_epochs"];
    if (metadata.contains("start_loss") && metadata["start_loss"].is_number())
      run.start_loss = metadata["start_loss"].get<double>();
    if (skip == 0) {
      std::fprintf(stderr, "resumed from %s after epoch %d\n", c.resume.c_str(), first_epoch - 1);
    } else {
      std::fprintf(stderr, "resumed from %s after step %zu of epoch %d\n", c.resume.c_str(), skip, first_epoch);
    }
  }
  const bool rollback = c.on_nan == "rollback";
  if (rollback) {  // where to return if the first epoch goes wrong
    Position start = epoch_start(first_epoch - 1, train);
    start.steps = skip;
    run.save(start);
  }

  auto callback = std::make_shared<TrainerCallback>(run);
  int rollbacks = 0;
  while (first_epoch <= c.epochs) {
    FitOptions options{.epochs = c.epochs, .initial_epoch = first_epoch - 1, .scheduler = run.scheduler.get(),
                       .validation = dp.is_root() ? &test : nullptr, .metrics = {std::make_shared<Accuracy>()},
                       .callbacks = {callback}};
    options.initial_step = skip;
    options.after_backward = dp.average_gradients;
    options.epoch_summary = false;  // the callback prints the trainer's own line
    if (c.label_smoothing > 0) {
      options.loss = [smoothing = static_cast<float>(c.label_smoothing)](const Tensor& output, const Batch& batch) {
        return cross_entropy(output, batch.labels, CrossEntropyOptions{.label_smoothing = smoothing});
      };
    }
    try {
      fit(model, train, *run.optimizer, options);
      break;
    } catch (const NonFiniteError& e) {
      if (!rollback) throw;
      const int epoch = callback->epoch();
      if (rollbacks == c.max_rollbacks) {
        throw NonFiniteError(std::string(e.what()) + "; gave up after " + std::to_string(rollbacks) +
                             " rollbacks (learning rate " + shortest_text(run.lr) + ")");
      }
      ++rollbacks;
      run.lr = c.lr / std::pow(10.0, rollbacks);  // exact powers of 10: --lr with the printed value gives this lr
      const TrainingState state = load_checkpoint(c.checkpoint, model, run.optimizer.get(), run.scheduler.get(),
                                                  {&train.shuffle_generator(), &train.transform_generator()});
      lower_learning_rate(c, run.lr, model, train.size(), run.optimizer, run.scheduler);
      skip = steps_in_epoch(state);
      // The file now matches the new settings, so a second rollback (or --resume) can load it.
      Position back = epoch_start(static_cast<int>(state.epoch), train);
      back.steps = skip;
      run.save(back);
      std::fprintf(stderr,
                   "%s\nrollback %d of %d: back to %s after epoch %d, learning rate %s (resuming from it needs "
                   "--lr %s); retrying\n",
                   e.what(), rollbacks, c.max_rollbacks, c.checkpoint.c_str(), static_cast<int>(state.epoch),
                   shortest_text(run.lr).c_str(), shortest_text(run.lr).c_str());
      run.report["rollbacks"].push_back({{"epoch", epoch},
                                         {"reason", e.what()},
                                         {"resumed_after_epoch", state.epoch},
                                         {"lr", run.lr}});
      first_epoch = static_cast<int>(state.epoch) + 1;  // fit retries the epoch after it
    }
  }
  if (run.exit_status >= 0) return run.exit_status;
  nlohmann::json& report = run.report;
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
