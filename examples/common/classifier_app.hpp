// The command line and the run shared by train_mnist and train_cifar10: flags, optimizer and schedule from
// flags, and run_classifier, which trains with the library's fit (per-epoch evaluation) and adds the
// trainer's part: checkpoint every epoch, resume, the JSON report, the stop signal, and what to do when
// training meets a NaN: stop, or roll back to the last checkpoint at a lower learning rate.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "examples/common/data_parallel.hpp"
#include "xgrad/data/data_loader.hpp"
#include "xgrad/layers/module.hpp"
#include "xgrad/optim/lr_scheduler.hpp"
#include "xgrad/optim/optimizer.hpp"

namespace xgrad::examples {

struct ClassifierConfig {
  std::string data;
  std::string dataset;
  int epochs = 2;
  std::size_t batch_size = 64;
  double lr = 0.05;
  std::string optimizer = "sgd";  // sgd (momentum 0.9) | adam | adamw
  std::string schedule = "onecycle";  // none | step | cosine | onecycle
  double weight_decay = 0;
  double pct_start = 0.3;        // onecycle: the share of the steps spent rising to lr (torch's pct_start)
  double label_smoothing = 0;    // cross_entropy's label_smoothing
  bool no_bn = false;
  int threads = 1;
  std::uint64_t seed = 1;
  std::size_t limit = 0;  // 0: every training image
  std::string checkpoint;
  std::string resume;
  std::string report;
  bool overwrite = false;  // replace an existing --checkpoint without --resume from it
  std::string on_nan = "stop";  // stop | rollback (to the last checkpoint, with the learning rate / 10)
  int max_rollbacks = 3;         // then give up (the rate is 1/1000 of --lr by then)
  // The report's "time_to_target" and a log line: the training time until the test accuracy first reached
  // this (0: none).
  double target_accuracy = 0;
};

// train_mnist --recipe fast: the settings that reached the target accuracy soonest when measured on this
// machine (README, Speed: the runs and seeds behind them). Only what `given(flag)` says was not on the
// command line is set.
void apply_fast_recipe(ClassifierConfig& config, bool fashion, const std::function<bool(const char*)>& given);

// Adds the shared flags to `app`, with `config`'s current values as defaults, and checks run at the end of
// parsing that make a bad combination a usage error (exit 2) before any work: --on-nan rollback needs
// --checkpoint; the output paths (check_classifier_paths).
void add_classifier_flags(CLI::App& app, ClassifierConfig& config);

// The paths' part of the end-of-parse checks: no empty path; outputs checked by check_output_paths against
// each other and the data files (and --report against --resume); an existing --checkpoint is refused unless
// --resume names it or --overwrite is given. `given(flag)` says whether a flag appeared.
void check_classifier_paths(const ClassifierConfig& config, const std::function<bool(const std::string&)>& given);

std::unique_ptr<Optimizer> make_optimizer(const ClassifierConfig& config, Module& model);
// Steps once per batch; nullptr for "none".
std::unique_ptr<LRScheduler> make_scheduler(const ClassifierConfig& config, Optimizer& optimizer,
                                            std::size_t steps_per_epoch);

// Trains for config.epochs (from the resumed epoch on), evaluating on `test` after each epoch, saving the
// checkpoint and the report as configured. `architecture` describes the model in the checkpoint.
// A NaN or an infinity in training throws NonFiniteError (on_nan "stop"), or (on_nan "rollback") reloads
// the checkpoint of the last good epoch, divides the learning rate by 10 and retries, at most
// max_rollbacks times. Returns the process exit status.
// Data-parallel (`dp` from DataParallel::prepare, `train` sharded): gradients averaged every step, the
// epoch's training figures over every rank, only rank 0 evaluates, saves and reports; --on-nan rollback
// is refused (a NaN on one rank ends the job instead, see data_parallel.hpp).
int run_classifier(const ClassifierConfig& config, const std::string& architecture, Module& model,
                   DataLoader& train, DataLoader& test, const DataParallelHooks& dp = {});

}  // namespace xgrad::examples
