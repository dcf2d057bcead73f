// bn_vs_no_bn: the convergence study. Trains one network with and without normalization from the same
// initial weights on the same batch order, over learning rates and optimizers, and writes the curves (CSV),
// a table and pictures (gnuplot). Presets: cnn, ioffe (Ioffe & Szegedy's MNIST MLP), small-batch, and
// data-parallel (under mpirun: per-rank BN, SyncBatchNorm and no BN at small per-rank batches).
//   ./build/bn_vs_no_bn --preset cnn --data datasets/mnist --out runs/bn_vs_no_bn
//   mpirun -np 4 ./build/bn_vs_no_bn --preset data-parallel --out runs/bn_vs_no_bn
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "xgrad/data/idx.hpp"
#include "xgrad/data/transforms.hpp"
#include "examples/common/cli.hpp"
#include "examples/common/convergence_plots.hpp"
#include "examples/common/convergence_report.hpp"
#include "examples/common/convergence_run.hpp"
#include "examples/common/data_parallel.hpp"
#include "xgrad/models/atomic_file.hpp"
#include "xgrad/models/reference_networks.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/sgd.hpp"

using namespace xgrad;
using namespace xgrad::examples;

namespace {

struct Study {
  std::string data = "datasets/mnist";
  std::string preset = "cnn";
  std::string out = "runs/bn_vs_no_bn";
  std::size_t images = 0, steps = 0;                // budget per run: one of them, else the preset's
  std::size_t eval_every = 0, eval_every_images = 0;  // one of them, else the preset's
  std::size_t eval_images = 0;                      // test images per evaluation (0: the preset's)
  std::vector<std::string> optimizers, norms;
  std::vector<double> lrs, adam_lrs;
  std::vector<std::size_t> batch_sizes;
  double momentum = 0;
  double target = 0.97;
  int threads = 1;  // on a shared machine a second OpenMP thread can slow every step down several times
  std::uint64_t seed = 1;
  std::size_t limit = 0;
  std::size_t unit = 0;
  std::size_t ranks = 1;  // data-parallel: batch sizes are per rank, budgets in images of every rank
};

// Everything a preset chooses that the flags leave open. Budgets fit ~10-15 minutes on 2 cores.
void apply_preset(Study& s) {
  auto fill = [](auto& field, auto value) {
    if (field.empty()) field = value;
  };
  const bool parallel = s.preset == "data-parallel";
  const bool small = s.preset == "small-batch" || parallel, ioffe = s.preset == "ioffe";
  fill(s.norms, parallel ? std::vector<std::string>{"batch", "sync", "none"}
                : small  ? std::vector<std::string>{"none", "batch", "layer", "group"}
                         : std::vector<std::string>{"none", "batch"});
  fill(s.batch_sizes, parallel ? std::vector<std::size_t>{2, 4, 8}
                      : small  ? std::vector<std::size_t>{2, 8, 64}
                               : std::vector<std::size_t>{ioffe ? 60u : 64u});
  fill(s.optimizers, small ? std::vector<std::string>{"sgd"} : std::vector<std::string>{"sgd", "adam"});
  fill(s.lrs, small ? std::vector<double>{0.1} : std::vector<double>{0.01, 0.1, 0.5});
  fill(s.adam_lrs, small ? std::vector<double>{0.001} : std::vector<double>{0.001, 0.01});
  if (s.images == 0 && s.steps == 0) {
    if (ioffe) s.steps = 20000;
    else s.images = small ? 30000 : 60000;
  }
  if (s.eval_every == 0 && s.eval_every_images == 0) {
    if (small) s.eval_every_images = 2000;
    else s.eval_every = ioffe ? 200 : 50;
  }
  if (s.eval_images == 0) s.eval_images = ioffe ? 10000 : 2000;
}

// MNIST's training-pixel mean and std, as train_mnist uses them.
Normalize mnist_normalize() { return Normalize({0.1307f}, {0.3081f}); }

std::string norm_title(const RunSpec& r, bool bn_only, std::size_t ranks) {
  if (r.sync) return "SyncBN";
  switch (r.norm) {
    case Normalization::None: return bn_only ? "no BN" : "no norm";
    case Normalization::Batch: return ranks > 1 ? "BN per rank" : "BN";
    case Normalization::Layer: return "LayerNorm";
    case Normalization::Group: return "GroupNorm";
  }
  return "?";
}

std::string optimizer_title(const std::string& o) { return o == "adam" ? "Adam" : "SGD"; }

// The grid in run order: optimizer, base lr, batch size, then normalization, so each group of
// normalizations trained alike is adjacent. small-batch scales each base lr by B/64, data-parallel by the
// global batch (B per rank times the ranks) / 64.
std::vector<RunSpec> make_grid(const Study& s) {
  std::vector<RunSpec> grid;
  std::size_t lr_index = 0;
  for (const std::string& o : s.optimizers) {
    for (double base : o == "adam" ? s.adam_lrs : s.lrs) {
      for (std::size_t b : s.batch_sizes) {
        const double lr = s.preset == "small-batch"     ? base * double(b) / 64.0
                          : s.preset == "data-parallel" ? base * double(b * s.ranks) / 64.0
                                                        : base;
        for (const std::string& n : s.norms) {
          const bool sync = n == "sync";
          grid.push_back({parse_normalization(sync ? "batch" : n), o, lr, base, b, lr_index, sync});
        }
      }
      ++lr_index;
    }
  }
  return grid;
}

std::shared_ptr<Sequential> make_model(const Study& s, Normalization norm) {
  if (s.preset == "ioffe") return ioffe_szegedy_mlp(norm == Normalization::Batch, s.seed);
  return mnist_cnn(norm, s.seed);
}

std::unique_ptr<Optimizer> make_optimizer(const Study& s, const RunSpec& r, Module& model) {
  if (r.optimizer == "adam") return std::make_unique<Adam>(model.named_parameters(), AdamOptions{.lr = r.lr});
  return std::make_unique<SGD>(model.named_parameters(), SGDOptions{.lr = r.lr, .momentum = s.momentum});
}

RunRecord run_one(const Study& s, const RunSpec& spec, const TensorDataset& train_set, DataLoader& eval, DataLoader& test,
                  const std::string& label, DataParallel& dp) {
  // Data-parallel: each rank its share of every global batch of spec.batch_size * ranks images.
  const std::size_t global_batch = spec.batch_size * s.ranks;
  // (A last global batch smaller than the others is dropped then: it would give the ranks unequal shares.)
  DataLoader train(train_set,
                   dp.shard({.batch_size = global_batch, .shuffle = true, .drop_last = s.ranks > 1, .seed = s.seed}),
                   mnist_normalize());
  auto model = make_model(s, spec.norm);
  const DataParallelHooks hooks = dp.prepare(*model, spec.sync);  // before the optimizer sees the parameters
  auto optimizer = make_optimizer(s, spec, *model);
  RunRecord r;
  r.spec = spec;
  r.init_weights = weights_fingerprint(*model);
  DataLoader first_epoch(train_set, train.options());  // a twin, so `train` starts its first epoch itself
  first_epoch.begin();
  r.batch_order = indices_fingerprint(first_epoch.order());
  TrackOptions options;
  r.steps = s.steps ? s.steps : std::max<std::size_t>(1, s.images / global_batch);
  options.steps = r.steps;
  options.eval_every = s.eval_every ? s.eval_every
                                    : std::max<std::size_t>(1, (s.eval_every_images + global_batch / 2) /
                                                                   global_batch);
  options.ranks = s.ranks;
  if (s.ranks > 1) {
    options.after_backward = hooks.average_gradients;
    options.mean_over_ranks = [&hooks, ranks = s.ranks](double loss) {
      hooks.allreduce(&loss, 1, false);
      return loss / double(ranks);
    };
  }
  if (s.preset == "ioffe") options.probe = last_sigmoid_input(*model, s.unit);
  r.track = track_training(*model, *optimizer, train, eval, options, label);

  for (const CurvePoint& p : r.track.curve) {
    if (p.test_accuracy >= s.target) {
      r.steps_to_target = std::to_string(p.step);
      break;
    }
  }
  if (r.track.non_finite) {
    const CurvePoint& last = r.track.curve.back();
    r.final_accuracy = NAN;
    r.diverged = std::string("loss ") + (std::isnan(last.train_loss) ? "nan" : csv_field(last.train_loss)) +
                 " at step " + std::to_string(last.step);
  } else {
    r.final_accuracy = evaluate_with_probe(*model, test, std::nullopt).accuracy;
    if (r.final_accuracy < 0.15) r.diverged = "at chance";  // 10 classes: chance is 10%
  }
  return r;
}

// The style of one curve: colour for the training setting (optimizer and rate) and dash for the
// normalization, or colour for the normalization when there is one setting; a panel per batch size.
PlotLine curve_line(const Study& s, const RunRecord& r, bool many_settings) {
  const bool bn_only =
      std::all_of(s.norms.begin(), s.norms.end(), [](auto& n) { return n == "none" || n == "batch" || n == "sync"; });
  const auto norm_index =
      std::size_t(std::find(s.norms.begin(), s.norms.end(), norm_key(r.spec)) - s.norms.begin());
  PlotLine line;
  // One legend entry per style: with several batch sizes the rate named is the one given, not the scaled one.
  line.title = norm_title(r.spec, bn_only, s.ranks);
  if (s.batch_sizes.size() == 1) {
    line.title += ", " + optimizer_title(r.spec.optimizer) + " lr=" + format_g(r.spec.lr);
  } else if (many_settings) {
    line.title += ", " + optimizer_title(r.spec.optimizer) + " lr=" + format_g(r.spec.base_lr) +
                  (s.preset == "small-batch" ? " at B=64" : "");
  }
  line.panel = std::size_t(std::find(s.batch_sizes.begin(), s.batch_sizes.end(), r.spec.batch_size) -
                           s.batch_sizes.begin());
  line.color = many_settings ? r.spec.lr_index : norm_index;
  line.dash = !many_settings ? 0 : bn_only ? (r.spec.sync ? 2 : r.spec.norm == Normalization::Batch ? 0 : 1) : norm_index;
  line.curve = &r.track.curve;
  return line;
}

// Draws <preset>_curves (and ioffe_percentiles) with gnuplot. Returns false if gnuplot failed; a missing
// gnuplot is said and is no failure (the CSVs hold everything).
bool draw_pictures(const Study& s, const std::vector<RunRecord>& runs, const std::string& title) {
  const Gnuplot g = find_gnuplot();
  if (!g.found || (g.png_terminal.empty() && !g.svg)) {
    std::printf("\nno pictures: %s; the curves are in the CSV (install gnuplot-nox for the PNG and SVG)\n",
                g.found ? "this gnuplot has neither a png nor an svg terminal" : "gnuplot was not found on the PATH");
    return true;
  }
  const bool many_settings = !runs.empty() && runs.back().spec.lr_index > 0;
  CurvesPlot plot;
  plot.title = title;
  plot.accuracy_label = "test accuracy (%), " + std::to_string(s.eval_images) + " test images";
  plot.x_images = s.batch_sizes.size() > 1;
  plot.target = s.target;
  if (s.batch_sizes.size() > 1) {
    for (std::size_t b : s.batch_sizes)
      plot.panel_titles.push_back((s.ranks > 1 ? "batch " + std::to_string(b) + " per rank x " +
                                                     std::to_string(s.ranks) + " ranks"
                                               : "batch " + std::to_string(b)));
  }
  for (const RunRecord& r : runs) plot.lines.push_back(curve_line(s, r, many_settings));

  std::vector<std::string> pictures;
  try {
    auto add = [&](const std::vector<std::string>& p) { pictures.insert(pictures.end(), p.begin(), p.end()); };
    add(render(s.out, s.preset + "_curves", curves_script(plot, s.preset + "_curves", g), g));
    if (s.preset == "ioffe") {
      BandsPlot bands;
      bands.title = "Input of the sigmoid of last-hidden-layer unit " + std::to_string(s.unit) +
                    " over training: median (line), 15th-85th percentiles (band)\nover " +
                    std::to_string(s.eval_images) +
                    " test images, model in eval mode (cf. Ioffe & Szegedy 2015, Fig. 1)";
      bands.y_label = "sigmoid input";
      bands.columns = s.norms.size();  // the grid's innermost loop: a row per setting, a column per norm
      for (const RunRecord& r : runs) {
        std::string panel = norm_title(r.spec, true, s.ranks) + ", " + optimizer_title(r.spec.optimizer) +
                            " lr=" + format_g(r.spec.lr);
        if (s.batch_sizes.size() > 1) panel += " B=" + std::to_string(r.spec.batch_size);
        bands.panels.push_back({panel, r.spec.norm == Normalization::Batch ? 0u : 3u, &r.track.curve});
      }
      add(render(s.out, "ioffe_percentiles", bands_script(bands, "ioffe_percentiles", g), g));
    }
  } catch (const std::exception& e) {
    std::printf("\npictures failed: %s\n", e.what());
    return false;
  }
  std::printf("\npictures:");
  for (const auto& p : pictures) std::printf(" %s", p.c_str());
  std::printf("\n");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  DataParallel dp(argc, argv, "bn_vs_no_bn");  // under mpirun: the data-parallel preset over its ranks
  Study s;
  CLI::App app(
      "Convergence study: the same network with and without normalization, from the same initial weights and the "
      "same batch order, over learning rates and optimizers. Writes <out>/<preset>_curves.csv, "
      "<out>/<preset>_summary.csv and, with gnuplot, <out>/<preset>_curves.{png,svg} (ioffe also "
      "<out>/ioffe_percentiles.{png,svg}). SGD is plain (momentum 0) unless --momentum is given. The progress line "
      "shows the mean loss since the last evaluation and the last test accuracy.",
      "bn_vs_no_bn");
  app.add_option("--data", s.data, "Folder with the four MNIST IDX files")->capture_default_str();
  app.add_option("--preset", s.preset,
                 "cnn: the reference CNN, 60000 images a run, 10 runs. ioffe: 784-100-100-100-10 sigmoid MLP, "
                 "batch 60, 20000 steps a run. small-batch: none/batch/layer/group norm at batch 2, 8, 64, "
                 "30000 images a run, lr scaled by B/64. data-parallel (under mpirun, e.g. -np 4): BN per rank, SyncBatchNorm "
                 "and no BN at 2, 4, 8 images per rank, 30000 images a run, lr scaled by the global batch / 64")
      ->check(CLI::IsMember({"cnn", "ioffe", "small-batch", "data-parallel"}))
      ->capture_default_str();
  auto* images = app.add_option("--images", s.images, "Training images per run (steps = images / batch size)")
                     ->check(Whole(1, UINT64_MAX));
  app.add_option("--steps", s.steps, "Training steps per run")->check(Whole(1, UINT64_MAX))->excludes(images);
  auto* every = app.add_option("--eval-every", s.eval_every, "Evaluate every K steps (cnn 50, ioffe 200)")
                    ->check(Whole(1, UINT64_MAX));
  app.add_option("--eval-every-images", s.eval_every_images, "Evaluate every N training images (small-batch 2000)")
      ->check(Whole(1, UINT64_MAX))
      ->excludes(every);
  app.add_option("--eval-images", s.eval_images,
                 "Evaluate on the first N test images (cnn, small-batch 2000; ioffe 10000); the final accuracy "
                 "always uses the whole test set")
      ->check(Whole(1, UINT64_MAX));
  app.add_option("--optimizers", s.optimizers, "Comma-separated: sgd, adam (small-batch: sgd)")
      ->delimiter(',')
      ->check(CLI::IsMember({"sgd", "adam"}));
  app.add_option("--lrs", s.lrs, "SGD learning rates (default 0.01,0.1,0.5; small-batch 0.1 at batch 64)")
      ->delimiter(',')
      ->check(Number(1e-8, 1e6));
  app.add_option("--adam-lrs", s.adam_lrs, "Adam learning rates (default 0.001,0.01; small-batch 0.001 at batch 64)")
      ->delimiter(',')
      ->check(Number(1e-8, 1e6));
  app.add_option("--momentum", s.momentum, "SGD momentum")->check(Number(0.0, 0.999))->capture_default_str();
  app.add_option("--norms", s.norms,
                 "Comma-separated: none, batch, layer, group, sync (SyncBatchNorm: data-parallel; ioffe: none, batch)")
      ->delimiter(',')
      ->check(CLI::IsMember({"none", "batch", "layer", "group", "sync"}));
  app.add_option("--batch-sizes", s.batch_sizes, "Comma-separated batch sizes (cnn 64, ioffe 60, small-batch 2,8,64)")
      ->delimiter(',')
      ->check(Whole(1, 65536));
  app.add_option("--target", s.target, "Test accuracy the table counts steps to")
      ->check(Number(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--unit", s.unit, "ioffe: the last-hidden-layer unit whose input is tracked")
      ->check(Whole(0, 99))
      ->capture_default_str();
  app.add_option("--threads", s.threads,
                 "OpenMP threads (on a busy machine a second spinning thread can slow each step several times; "
                 "OMP_WAIT_POLICY=passive avoids that)")->check(Whole(1, 256))->capture_default_str();
  app.add_option("--seed", s.seed, "Seed of the initial weights and of the batch order")
      ->check(Whole(0, UINT64_MAX))
      ->capture_default_str();
  app.add_option("--limit", s.limit, "Train on the first N training images only (0: all)")
      ->check(Whole(0, UINT64_MAX))
      ->capture_default_str();
  app.add_option("--out", s.out, "Output folder")->capture_default_str();
  if (int status = parse_command_line(app, argc, argv); status >= 0) return status;
  if (s.preset == "ioffe") {
    for (const std::string& n : s.norms) {
      if (n != "none" && n != "batch") {
        std::fprintf(stderr, "bn_vs_no_bn: --norms: the ioffe network takes none or batch, not '%s'\n\n%s",
                     n.c_str(), app.help().c_str());
        return 2;
      }
    }
  }
  s.ranks = static_cast<std::size_t>(dp.ranks());
  if (s.ranks > 1 && s.preset != "data-parallel") {
    return dp.fail("under mpirun only --preset data-parallel runs (the others would repeat every run on each rank)");
  }
  apply_preset(s);

  try {
    const auto start = std::chrono::steady_clock::now();
    omp_set_num_threads(s.threads);
    TensorDataset train_set = load_mnist(s.data, true);
    const TensorDataset test_set = load_mnist(s.data, false);
    if (s.limit > 0 && s.limit < train_set.size()) train_set = train_set.subset(0, s.limit);
    s.eval_images = std::min(s.eval_images, test_set.size());
    // Batches of 250: evaluation runs about twice as fast as with batches of 1000 (cache).
    DataLoader eval(test_set.subset(0, s.eval_images), {.batch_size = 250}, mnist_normalize());
    DataLoader test(test_set, {.batch_size = 250}, mnist_normalize());
    std::filesystem::create_directories(s.out);
    const std::string curves_path = (std::filesystem::path(s.out) / (s.preset + "_curves.csv")).string();
    const std::string summary_path = (std::filesystem::path(s.out) / (s.preset + "_summary.csv")).string();

    const std::vector<RunSpec> grid = make_grid(s);
    const std::string network = s.preset == "ioffe" ? "Ioffe-Szegedy sigmoid MLP" : "reference CNN";
    std::string sgd = s.momentum > 0 ? "SGD with momentum " + format_g(s.momentum) : "SGD without momentum";
    if (std::find(s.optimizers.begin(), s.optimizers.end(), "adam") != s.optimizers.end()) {
      sgd += ", Adam betas (0.9, 0.999)";
    }
    std::fprintf(stderr,
                 "bn_vs_no_bn: preset %s (%s), %zu training and %zu test images from %s; %zu runs; test accuracy "
                 "every %s on the first %zu test images; every run starts from the weights of seed %llu and "
                 "sees the same batches (loader seed %llu); %s\n",
                 s.preset.c_str(), network.c_str(), train_set.size(), test_set.size(), s.data.c_str(), grid.size(),
                 s.eval_every ? (std::to_string(s.eval_every) + " steps").c_str()
                              : (std::to_string(s.eval_every_images) + " images").c_str(),
                 s.eval_images, static_cast<unsigned long long>(s.seed), static_cast<unsigned long long>(s.seed),
                 sgd.c_str());

    std::vector<RunRecord> runs;
    for (std::size_t i = 0; i < grid.size(); ++i) {
      const std::string label =
          "[" + std::to_string(i + 1) + "/" + std::to_string(grid.size()) + "] " + run_name(grid[i]);
      runs.push_back(run_one(s, grid[i], train_set, eval, test, label, dp));
      // After every run, so that an interrupted study keeps the runs it finished. Rank 0 alone writes.
      if (dp.rank() == 0) {
        write_file_atomically(curves_path, curves_csv(runs, s.preset == "ioffe"));
        write_file_atomically(summary_path, summary_csv(runs));
      }
    }
    if (dp.rank() != 0) return 0;
    print_table(runs, s.target);
    std::printf("\ncurves: %s\nsummary: %s\n", curves_path.c_str(), summary_path.c_str());
    const std::string title = (s.preset == "ioffe" ? "Ioffe & Szegedy's MNIST MLP (3x100 sigmoid)"
                               : s.preset == "cnn" ? "MNIST reference CNN"
                               : s.preset == "data-parallel"
                                   ? "MNIST CNN on " + std::to_string(s.ranks) + " ranks (lr scaled by global B/64)"
                                   : "MNIST reference CNN, small batches (lr scaled by B/64)") +
                              std::string(": same initial weights and batch order for every curve (seed ") +
                              std::to_string(s.seed) + "); " + sgd;
    const bool drawn = draw_pictures(s, runs, title);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("wall time: %.0f s\n", seconds);
    return drawn ? 0 : 1;
  } catch (const std::exception& e) {
    return dp.fail(e.what());
  }
}
