// bn_vs_no_bn: the convergence study. Trains one network with and without normalization from the same
// initial weights on the same batch order, over learning rates and optimizers, and writes the curves (CSV),
// a table and pictures (gnuplot). Presets: cnn, ioffe (Ioffe & Szegedy's MNIST MLP), small-batch.
//   ./build/bn_vs_no_bn --preset cnn --data datasets/mnist --out runs/bn_vs_no_bn
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "core/error.hpp"
#include "data/idx.hpp"
#include "examples/common/cli.hpp"
#include "examples/common/convergence_plots.hpp"
#include "examples/common/convergence_run.hpp"
#include "models/atomic_file.hpp"
#include "models/reference_networks.hpp"
#include "optim/adam.hpp"
#include "optim/sgd.hpp"

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
  int threads = 2;
  std::uint64_t seed = 1;
  std::size_t limit = 0;
  std::size_t unit = 0;
};

// Everything a preset chooses that the flags leave open. Budgets fit ~10-15 minutes on 2 cores.
void apply_preset(Study& s) {
  auto fill = [](auto& field, auto value) {
    if (field.empty()) field = value;
  };
  const bool small = s.preset == "small-batch", ioffe = s.preset == "ioffe";
  fill(s.norms, small ? std::vector<std::string>{"none", "batch", "layer", "group"}
                      : std::vector<std::string>{"none", "batch"});
  fill(s.batch_sizes, small ? std::vector<std::size_t>{2, 8, 64} : std::vector<std::size_t>{ioffe ? 60u : 64u});
  fill(s.optimizers, small ? std::vector<std::string>{"sgd"} : std::vector<std::string>{"sgd", "adam"});
  fill(s.lrs, small ? std::vector<double>{0.1} : std::vector<double>{0.01, 0.1, 0.5});
  fill(s.adam_lrs, small ? std::vector<double>{0.001} : std::vector<double>{0.001, 0.01});
  if (s.images == 0 && s.steps == 0) {
    if (ioffe) s.steps = 5000;
    else s.images = small ? 30000 : 60000;
  }
  if (s.eval_every == 0 && s.eval_every_images == 0) {
    if (small) s.eval_every_images = 2000;
    else s.eval_every = ioffe ? 100 : 50;
  }
  if (s.eval_images == 0) s.eval_images = ioffe ? 10000 : 2000;
}

struct RunSpec {
  Normalization norm;
  std::string optimizer;
  double lr;       // the rate used
  double base_lr;  // the rate given (small-batch scales it by B/64)
  std::size_t batch_size;
  std::size_t lr_index;  // index of (optimizer, base lr) in the grid: the colour of its curves
};

std::string format_lr(double lr) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", lr);
  return b;
}

std::string name_of(const RunSpec& r) {
  return to_string(r.norm) + " " + r.optimizer + " lr=" + format_lr(r.lr) + " B=" + std::to_string(r.batch_size);
}

std::string norm_title(Normalization n, bool bn_only) {
  switch (n) {
    case Normalization::None: return bn_only ? "no BN" : "no norm";
    case Normalization::Batch: return "BN";
    case Normalization::Layer: return "LayerNorm";
    case Normalization::Group: return "GroupNorm";
  }
  return "?";
}

std::string optimizer_title(const std::string& o) { return o == "adam" ? "Adam" : "SGD"; }

// The grid in run order: optimizer, base lr, batch size, then normalization, so each group of
// normalizations trained alike is adjacent. small-batch scales each base lr by B/64.
std::vector<RunSpec> make_grid(const Study& s) {
  std::vector<RunSpec> grid;
  std::size_t lr_index = 0;
  for (const std::string& o : s.optimizers) {
    for (double base : o == "adam" ? s.adam_lrs : s.lrs) {
      for (std::size_t b : s.batch_sizes) {
        const double lr = s.preset == "small-batch" ? base * double(b) / 64.0 : base;
        for (const std::string& n : s.norms) grid.push_back({parse_normalization(n), o, lr, base, b, lr_index});
      }
      ++lr_index;
    }
  }
  return grid;
}

struct RunRecord {
  RunSpec spec;
  TrackResult track;
  std::size_t steps = 0;
  double final_accuracy = 0;  // full test set; NaN after a non-finite loss
  std::string diverged;       // empty, "loss nan at step 12", or "at chance"
  std::string steps_to_target = "never";
  std::uint64_t init_weights = 0, batch_order = 0;
};

std::string hex(std::uint64_t v) {
  char b[20];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

// A CSV field: empty when not measured (NaN), else %.6g.
std::string field(double v) {
  if (std::isnan(v)) return "";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

void write_csvs(const Study& s, const std::vector<RunRecord>& runs, const std::string& curves_path,
                const std::string& summary_path) {
  const bool ioffe = s.preset == "ioffe";
  std::ostringstream curves, summary;
  curves << "config,norm,optimizer,lr,batch_size,step,images,train_loss,test_accuracy"
         << (ioffe ? ",p15,p50,p85" : "") << "\n";
  summary << "config,norm,optimizer,lr,batch_size,steps,steps_to_target,final_accuracy,diverged,seconds,"
             "init_weights,batch_order\n";
  for (const RunRecord& r : runs) {
    const std::string head = name_of(r.spec) + "," + to_string(r.spec.norm) + "," + r.spec.optimizer + "," +
                             format_lr(r.spec.lr) + "," + std::to_string(r.spec.batch_size) + ",";
    for (const CurvePoint& p : r.track.curve) {
      // The row of a non-finite loss says so ("nan", "inf"); elsewhere an empty field is "not measured".
      const bool bad = p.step > 0 && !std::isfinite(p.train_loss);
      curves << head << p.step << "," << p.images << "," << (bad && std::isnan(p.train_loss) ? "nan" : field(p.train_loss))
             << "," << field(p.test_accuracy);
      if (ioffe) curves << "," << field(p.p15) << "," << field(p.p50) << "," << field(p.p85);
      curves << "\n";
    }
    summary << head << r.steps << "," << r.steps_to_target << "," << field(r.final_accuracy) << ","
            << (r.diverged.empty() ? "no" : r.diverged) << "," << field(r.track.seconds) << "," << hex(r.init_weights)
            << "," << hex(r.batch_order) << "\n";
  }
  write_file_atomically(curves_path, curves.str());
  write_file_atomically(summary_path, summary.str());
}

void print_table(const Study& s, const std::vector<RunRecord>& runs) {
  char target[16];
  std::snprintf(target, sizeof target, "%g%%", 100 * s.target);
  std::printf("\n%-30s %14s %15s %8s  %s\n", "configuration", (std::string("steps to ") + target).c_str(),
              "final accuracy", "seconds", "diverged");
  for (const RunRecord& r : runs) {
    char accuracy[16] = "-";
    if (!std::isnan(r.final_accuracy)) std::snprintf(accuracy, sizeof accuracy, "%.2f%%", 100 * r.final_accuracy);
    std::printf("%-30s %14s %15s %8.0f  %s\n", name_of(r.spec).c_str(), r.steps_to_target.c_str(), accuracy,
                r.track.seconds, r.diverged.empty() ? "no" : ("yes: " + r.diverged).c_str());
  }
}

std::shared_ptr<Sequential> make_model(const Study& s, Normalization norm) {
  if (s.preset == "ioffe") return ioffe_szegedy_mlp(norm == Normalization::Batch, s.seed);
  return mnist_cnn(norm, s.seed);
}

std::unique_ptr<Optimizer> make_optimizer(const Study& s, const RunSpec& r, Module& model) {
  if (r.optimizer == "adam") return std::make_unique<Adam>(model.named_parameters(), AdamOptions{.lr = r.lr});
  return std::make_unique<SGD>(model.named_parameters(), SGDOptions{.lr = r.lr, .momentum = s.momentum});
}

RunRecord run_one(const Study& s, const RunSpec& spec, const Dataset& train_set, DataLoader& eval, DataLoader& test,
                  const std::string& label) {
  const Normalize normalize({0.1307f}, {0.3081f});  // MNIST's training-pixel mean and std
  DataLoader train(train_set, {.batch_size = spec.batch_size, .shuffle = true, .seed = s.seed}, normalize);
  auto model = make_model(s, spec.norm);
  auto optimizer = make_optimizer(s, spec, *model);
  RunRecord r;
  r.spec = spec;
  r.init_weights = weights_fingerprint(*model);
  DataLoader first_epoch(train_set, train.options());  // a twin, so `train` starts its first epoch itself
  first_epoch.begin();
  r.batch_order = indices_fingerprint(first_epoch.order());
  TrackOptions options;
  r.steps = s.steps ? s.steps : std::max<std::size_t>(1, s.images / spec.batch_size);
  options.steps = r.steps;
  options.eval_every = s.eval_every ? s.eval_every
                                    : std::max<std::size_t>(1, (s.eval_every_images + spec.batch_size / 2) /
                                                                   spec.batch_size);
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
    r.diverged = std::string("loss ") + (std::isnan(last.train_loss) ? "nan" : field(last.train_loss)) +
                 " at step " + std::to_string(last.step);
  } else {
    r.final_accuracy = evaluate_with_probe(*model, test, std::nullopt).accuracy;
    if (r.final_accuracy < 0.15) r.diverged = "at chance";  // 10 classes: chance is 10%
  }
  return r;
}

void draw_pictures(const Study& s, const std::vector<RunRecord>& runs, const std::string& gnuplot_note) {
  const Gnuplot g = find_gnuplot();
  if (!g.found || (g.png_terminal.empty() && !g.svg)) {
    std::printf("\nno pictures: %s; the curves are in the CSV (install gnuplot-nox for the PNG and SVG)\n",
                g.found ? "this gnuplot has neither a png nor an svg terminal" : "gnuplot was not found on the PATH");
    return;
  }
  const bool bn_only = std::all_of(s.norms.begin(), s.norms.end(), [](auto& n) { return n == "none" || n == "batch"; });
  const bool many_lrs = !runs.empty() && runs.back().spec.lr_index > 0;
  CurvesPlot plot;
  plot.title = gnuplot_note;
  plot.accuracy_label = "test accuracy (%), " + std::to_string(s.eval_images) + " test images";
  plot.x_images = s.batch_sizes.size() > 1;
  plot.target = s.target;
  if (s.batch_sizes.size() > 1) {
    for (std::size_t b : s.batch_sizes) plot.panel_titles.push_back("batch " + std::to_string(b));
  }
  for (const RunRecord& r : runs) {
    PlotLine line;
    const auto norm_index = std::size_t(std::find(s.norms.begin(), s.norms.end(), to_string(r.spec.norm)) - s.norms.begin());
    // One legend entry per curve style: with several batch sizes the rate named is the one given.
    line.title = norm_title(r.spec.norm, bn_only);
    if (s.batch_sizes.size() == 1) {
      line.title += ", " + optimizer_title(r.spec.optimizer) + " lr=" + format_lr(r.spec.lr);
    } else if (many_lrs) {
      line.title += ", " + optimizer_title(r.spec.optimizer) + " lr=" + format_lr(r.spec.base_lr) +
                    (s.preset == "small-batch" ? " at B=64" : "");
    }
    line.panel = std::size_t(std::find(s.batch_sizes.begin(), s.batch_sizes.end(), r.spec.batch_size) - s.batch_sizes.begin());
    // Colour tells the training setting apart and the dash the normalization, unless there is one setting.
    line.color = many_lrs ? r.spec.lr_index : norm_index;
    line.dash = many_lrs ? (bn_only ? (r.spec.norm == Normalization::Batch ? 0 : 1) : norm_index) : 0;
    line.curve = &r.track.curve;
    plot.lines.push_back(line);
  }
  std::vector<std::string> pictures;
  try {
    auto add = [&](const std::vector<std::string>& p) { pictures.insert(pictures.end(), p.begin(), p.end()); };
    add(render(s.out, s.preset + "_curves", curves_script(plot, s.preset + "_curves", g), g));
    if (s.preset == "ioffe") {
      BandsPlot bands;
      bands.title = "Input to the sigmoid of last-hidden-layer unit " + std::to_string(s.unit) +
                    ": 15th, 50th, 85th percentiles over " + std::to_string(s.eval_images) +
                    " test images (cf. Ioffe & Szegedy 2015, Fig. 1)";
      bands.y_label = "sigmoid input";
      bands.columns = s.norms.size();
      for (const RunRecord& r : runs) {
        bands.panels.push_back({norm_title(r.spec.norm, true) + ", " + optimizer_title(r.spec.optimizer) +
                                    " lr=" + format_lr(r.spec.lr),
                                r.spec.norm == Normalization::Batch ? 0u : 3u, &r.track.curve});
      }
      add(render(s.out, "ioffe_percentiles", bands_script(bands, "ioffe_percentiles", g), g));
    }
  } catch (const std::exception& e) {
    std::printf("\npictures failed: %s\n", e.what());
  }
  std::printf("\npictures:");
  for (const auto& p : pictures) std::printf(" %s", p.c_str());
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
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
                 "batch 60, 5000 steps a run. small-batch: none/batch/layer/group norm at batch 2, 8, 64, "
                 "30000 images a run, lr scaled by B/64")
      ->check(CLI::IsMember({"cnn", "ioffe", "small-batch"}))
      ->capture_default_str();
  auto* images = app.add_option("--images", s.images, "Training images per run (steps = images / batch size)")
                     ->check(CLI::PositiveNumber);
  app.add_option("--steps", s.steps, "Training steps per run")->check(CLI::PositiveNumber)->excludes(images);
  auto* every = app.add_option("--eval-every", s.eval_every, "Evaluate every K steps (cnn 50, ioffe 100)")
                    ->check(CLI::PositiveNumber);
  app.add_option("--eval-every-images", s.eval_every_images, "Evaluate every N training images (small-batch 2000)")
      ->check(CLI::PositiveNumber)
      ->excludes(every);
  app.add_option("--eval-images", s.eval_images,
                 "Evaluate on the first N test images (cnn, small-batch 2000; ioffe 10000); the final accuracy "
                 "always uses the whole test set")
      ->check(CLI::PositiveNumber);
  app.add_option("--optimizers", s.optimizers, "Comma-separated: sgd, adam (small-batch: sgd)")
      ->delimiter(',')
      ->check(CLI::IsMember({"sgd", "adam"}));
  app.add_option("--lrs", s.lrs, "SGD learning rates (default 0.01,0.1,0.5; small-batch 0.1 at batch 64)")
      ->delimiter(',')
      ->check(CLI::Range(1e-8, 100.0));
  app.add_option("--adam-lrs", s.adam_lrs, "Adam learning rates (default 0.001,0.01; small-batch 0.001 at batch 64)")
      ->delimiter(',')
      ->check(CLI::Range(1e-8, 100.0));
  app.add_option("--momentum", s.momentum, "SGD momentum")->check(CLI::Range(0.0, 0.999))->capture_default_str();
  app.add_option("--norms", s.norms, "Comma-separated: none, batch, layer, group (ioffe: none, batch)")
      ->delimiter(',')
      ->check(CLI::IsMember({"none", "batch", "layer", "group"}));
  app.add_option("--batch-sizes", s.batch_sizes, "Comma-separated batch sizes (cnn 64, ioffe 60, small-batch 2,8,64)")
      ->delimiter(',')
      ->check(CLI::Range(std::size_t{1}, std::size_t{65536}));
  app.add_option("--target", s.target, "Test accuracy the table counts steps to")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--unit", s.unit, "ioffe: the last-hidden-layer unit whose input is tracked")
      ->check(CLI::Range(std::size_t{0}, std::size_t{99}))
      ->capture_default_str();
  app.add_option("--threads", s.threads, "OpenMP threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--seed", s.seed, "Seed of the initial weights and of the batch order")->capture_default_str();
  app.add_option("--limit", s.limit, "Train on the first N training images only (0: all)")->capture_default_str();
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
  apply_preset(s);

  try {
    const auto start = std::chrono::steady_clock::now();
    omp_set_num_threads(s.threads);
    Dataset train_set = load_mnist(s.data, true);
    const Dataset test_set = load_mnist(s.data, false);
    if (s.limit > 0 && s.limit < train_set.size()) train_set = train_set.subset(0, s.limit);
    s.eval_images = std::min(s.eval_images, test_set.size());
    const Normalize normalize({0.1307f}, {0.3081f});
    DataLoader eval(test_set.subset(0, s.eval_images), {.batch_size = 1000}, normalize);
    DataLoader test(test_set, {.batch_size = 1000}, normalize);
    std::filesystem::create_directories(s.out);
    const std::string curves_csv = (std::filesystem::path(s.out) / (s.preset + "_curves.csv")).string();
    const std::string summary_csv = (std::filesystem::path(s.out) / (s.preset + "_summary.csv")).string();

    const std::vector<RunSpec> grid = make_grid(s);
    const std::string network = s.preset == "ioffe" ? "Ioffe-Szegedy sigmoid MLP" : "reference CNN";
    const std::string sgd = s.momentum > 0 ? "SGD momentum " + format_lr(s.momentum) : "plain SGD";
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
      const std::string label = "[" + std::to_string(i + 1) + "/" + std::to_string(grid.size()) + "] " + name_of(grid[i]);
      runs.push_back(run_one(s, grid[i], train_set, eval, test, label));
      write_csvs(s, runs, curves_csv, summary_csv);  // after every run: an interrupted study keeps its runs
    }
    print_table(s, runs);
    std::printf("\ncurves: %s\nsummary: %s\n", curves_csv.c_str(), summary_csv.c_str());
    const std::string title = (s.preset == "ioffe" ? "Ioffe & Szegedy's MNIST MLP (3x100 sigmoid)"
                               : s.preset == "cnn" ? "MNIST reference CNN"
                                                   : "MNIST reference CNN, small batches (lr scaled by B/64)") +
                              std::string(": same initial weights and batch order for every curve (seed ") +
                              std::to_string(s.seed) + "); " + sgd;
    draw_pictures(s, runs, title);
    std::printf("wall time: %.0f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bn_vs_no_bn: %s\n", e.what());
    return 1;
  }
}
