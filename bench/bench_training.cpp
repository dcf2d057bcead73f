// xgrad_bench: training and inference throughput of a reference network (models/reference_networks.hpp:
// the MNIST CNN or ResNet-9), xgrad beside libtorch when it was found, in one process. Windows of the two
// frameworks, of every case and thread count, alternate round after round, so that a load change on the
// machine hits both alike; each figure is the median over the rounds, after a warm-up. The FLOPs of a step
// are set against the machine's fp32 peak, measured in the same run.
//   xgrad_bench --network mnist --threads 1,2 --windows 9 --report bench.json
// --standalone xgrad|libtorch runs one framework alone (one case, one thread count) over --images images
// instead: scripts/bench.sh runs each framework so, in a process of its own, to give libtorch its best.
#include <malloc.h>
#include <omp.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench/bench_util.hpp"
#include "bench/flops.hpp"
#include "bench/runner.hpp"
#include "bench/standalone.hpp"
#include "xgrad/core/storage_pool.hpp"
#include "xgrad/models/reference_networks.hpp"

extern "C" void openblas_set_num_threads(int threads);

using namespace xgrad::bench;

namespace {

struct Entry {
  BenchCase c;
  std::string framework;  // "xgrad" or "libtorch"
  std::unique_ptr<Runner> runner;
  std::map<int, int> steps;  // per thread count: steps in one window
  std::map<int, std::vector<double>> rate, faults, news, pool_misses;  // per thread count, one per window
};

void prepare(Entry& e, int threads) {
  // OpenBLAS stays at one thread throughout (set in main): libtorch's at::parallel splits the work
  // itself, and xgrad never lets OpenBLAS thread (kernels/gemm.cpp). Its openblas_set_num_threads also
  // sets OpenMP's thread count, so it must come before this.
  e.runner->set_threads(threads);
}

struct Window {
  double rate, faults, news, pool_misses;
};

Window run_window(Entry& e, int threads) {
  prepare(e, threads);
  const int steps = e.steps[threads];
  const std::int64_t f0 = minor_faults(), n0 = new_calls(), p0 = xgrad::storage_pool_stats().misses;
  const double t0 = now_seconds();
  for (int s = 0; s < steps; ++s) e.runner->step();
  const double t1 = now_seconds();
  const double per_step = 1.0 / steps;
  return {double(steps) * e.c.batch / (t1 - t0), double(minor_faults() - f0) * per_step,
          double(new_calls() - n0) * per_step, double(xgrad::storage_pool_stats().misses - p0) * per_step};
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoi(item));
  return out;
}

std::unique_ptr<Runner> make_runner(const std::string& framework, const BenchCase& c, const BenchData& data) {
#ifdef XGRAD_BENCH_TORCH
  if (framework == "libtorch") return make_torch_runner(c, data);
#endif
  if (framework == "xgrad") return make_xgrad_runner(c, data);
  return nullptr;
}

// --standalone: one framework, one case, one thread count, an epoch-sized stretch; prints one line.
int run_standalone_main(const std::string& framework, const std::vector<BenchCase>& cases,
                        const std::vector<int>& thread_counts, const BenchData& data, long images,
                        double warmup_seconds, const NetworkFlops& flops, const std::string& report_path) {
  if (cases.size() != 1 || thread_counts.size() != 1) {
    std::fprintf(stderr, "xgrad_bench: --standalone takes one case (--cases) and one thread count (--threads)\n");
    return 2;
  }
  const BenchCase& c = cases[0];
  std::unique_ptr<Runner> runner = make_runner(framework, c, data);
  if (!runner) {
    std::fprintf(stderr, "xgrad_bench: libtorch was not found at build time\n");
    return 2;
  }
  if (images == 0) images = c.network == "resnet9" ? 50'000 : 60'000;  // an epoch of CIFAR-10 / MNIST
  runner->set_threads(thread_counts[0]);
  const StandaloneResult r = run_standalone(*runner, c.batch, images, warmup_seconds);
  const double gflops = r.images_per_second * (c.train ? flops.training : flops.forward) * 1e-9;
  std::printf("standalone %s %s %s batch %d threads %d: %.0f images/s over %ld images (%.2f s), %.1f GFLOP/s, "
              "%.0f new/step, %.1f faults/step, peak RSS %.0f MB\n",
              framework.c_str(), c.network.c_str(), c.name().c_str(), c.batch, thread_counts[0],
              r.images_per_second, images, r.seconds, gflops, r.new_calls_per_step, r.minor_faults_per_step,
              peak_rss_mb());
  if (!report_path.empty()) {
    nlohmann::json report = {{"framework", framework},         {"network", c.network},
                             {"case", c.name()},               {"batch", c.batch},
                             {"threads", thread_counts[0]},    {"images", images},
                             {"seconds", r.seconds},           {"images_per_second", r.images_per_second},
                             {"gflops", gflops},               {"new_calls_per_step", r.new_calls_per_step},
                             {"minor_faults_per_step", r.minor_faults_per_step}, {"peak_rss_mb", peak_rss_mb()}};
    std::ofstream(report_path) << report.dump(2) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string threads_arg = "1,2", report_path, cases_arg = "train_bn,train_nobn,infer_bn,infer_nobn";
  int windows = 9, batch = 0;  // 0: the network's own, 64 for mnist and 128 for resnet9
  double window_seconds = 0.4, warmup_seconds = 0.5;
  bool no_torch = false;
  std::string malloc_mode = "tuned", network = "mnist", standalone;
  long images = 0;
  CLI::App app("Training and inference throughput of the reference MNIST CNN, xgrad beside libtorch.",
               "xgrad_bench");
  app.add_option("--threads", threads_arg, "Thread counts, comma-separated")->capture_default_str();
  app.add_option("--cases", cases_arg, "Cases, comma-separated")->capture_default_str();
  app.add_option("--windows", windows, "Timed windows per case, framework and thread count")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--window-seconds", window_seconds, "Length of one window")->capture_default_str();
  app.add_option("--warmup-seconds", warmup_seconds, "Warm-up per case and thread count")->capture_default_str();
  app.add_option("--batch", batch, "Batch size (default: 64 for mnist, 128 for resnet9)")->check(CLI::Range(2, 4096));
  app.add_option("--malloc", malloc_mode,
                 "tuned: glibc keeps freed memory (libtorch at its best); default: glibc's own settings")
      ->check(CLI::IsMember({"tuned", "default"}))
      ->capture_default_str();
  app.add_flag("--no-torch", no_torch, "Run xgrad alone even when libtorch is built in");
  app.add_option("--network", network, "mnist (the reference CNN, batch 64) or resnet9 (CIFAR-style, batch 128)")
      ->check(CLI::IsMember({"mnist", "resnet9"}))->capture_default_str();
  app.add_option("--standalone", standalone, "Run this framework alone: one case, one thread count, --images images")
      ->check(CLI::IsMember({"xgrad", "libtorch"}));
  app.add_option("--images", images, "Images in the standalone run (default: an epoch, 60000 or 50000)")
      ->check(CLI::Range(1L, 100'000'000L));
  app.add_option("--report", report_path, "Write the results as JSON here");
  CLI11_PARSE(app, argc, argv);

  if (batch == 0) batch = network == "resnet9" ? 128 : 64;
  const std::vector<int> thread_counts = parse_list(threads_arg);
  openblas_set_num_threads(1);
  if (malloc_mode == "tuned") {
    // libtorch allocates every tensor with posix_memalign and frees it at once; by default glibc hands
    // large blocks back to the kernel, and every step faults the pages in again. Keep them instead:
    // nothing above 32 MB (glibc's largest threshold) is mapped on its own, and the heap is never trimmed.
    // xgrad's storage pool does the same for its tensors whatever this says.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  }
#ifdef XGRAD_BENCH_TORCH
  const bool torch = !no_torch;
#else
  const bool torch = false;
#endif
  std::fprintf(stderr, "xgrad_bench: batch %d, threads %s, %d windows of %.2f s, malloc %s; libtorch %s\n", batch,
               threads_arg.c_str(), windows, window_seconds, malloc_mode.c_str(),
               torch ? "present" : (no_torch ? "skipped (--no-torch)" : "absent (not found at build time)"));

  const BenchData data = make_bench_data(network, batch, 8, 42);
  std::vector<BenchCase> cases;
  std::stringstream case_list(cases_arg);
  for (std::string name; std::getline(case_list, name, ',');) {
    BenchCase c{.train = name.rfind("train", 0) == 0, .batch_norm = name.find("nobn") == std::string::npos,
                .batch = batch, .network = network};
    if (c.name() != name) {
      std::fprintf(stderr, "xgrad_bench: unknown case '%s' (train_bn, train_nobn, infer_bn, infer_nobn)\n",
                   name.c_str());
      return 2;
    }
    cases.push_back(c);
  }
  const NetworkFlops flops =
      count_flops(*(network == "resnet9" ? xgrad::resnet9(xgrad::Normalization::Batch, 1)
                                         : xgrad::mnist_cnn(xgrad::Normalization::Batch, 1)),
                  std::size_t(data.channels), std::size_t(data.height), std::size_t(data.width));
  if (!standalone.empty()) {
    return run_standalone_main(standalone, cases, thread_counts, data, images, warmup_seconds, flops,
                               report_path);
  }
  std::vector<Entry> entries;
  for (const BenchCase& c : cases) {
    entries.push_back({c, "xgrad", make_xgrad_runner(c, data), {}, {}, {}, {}, {}});
#ifdef XGRAD_BENCH_TORCH
    if (torch) entries.push_back({c, "libtorch", make_torch_runner(c, data), {}, {}, {}, {}, {}});
#endif
  }

  // The machine's fp32 peak at each thread count, measured before the windows.
  std::map<int, double> peak;
  for (int t : thread_counts) peak[t] = measure_peak_flops(t);

  // Warm-up, and the window length in steps from the speed it shows.
  for (int t : thread_counts) {
    for (Entry& e : entries) {
      prepare(e, t);
      int steps = 0;
      double start = now_seconds(), last = start;
      while (steps < 5 || last - start < warmup_seconds) {
        e.runner->step();
        ++steps;
        last = now_seconds();
      }
      e.steps[t] = std::max(3, int(std::lround(window_seconds * steps / (last - start))));
    }
  }
  // Timed rounds: every entry once per thread count per round.
  for (int r = 0; r < windows; ++r) {
    for (int t : thread_counts) {
      for (Entry& e : entries) {
        const Window w = run_window(e, t);
        e.rate[t].push_back(w.rate);
        e.faults[t].push_back(w.faults);
        e.news[t].push_back(w.news);
        e.pool_misses[t].push_back(w.pool_misses);
      }
    }
    std::fprintf(stderr, "\rround %d/%d", r + 1, windows);
  }
  std::fprintf(stderr, "\n");

  nlohmann::json report = {{"network", network}, {"batch", batch}, {"windows", windows},
                           {"window_seconds", window_seconds}, {"malloc", malloc_mode}, {"libtorch", torch},
                           {"flops_per_image", {{"forward", flops.forward}, {"training", flops.training}}},
                           {"peak_gflops", nlohmann::json::object()}, {"results", nlohmann::json::array()}};
  std::printf("%s, batch %d: %.2f MFLOP per image forward, %.2f training\n", network.c_str(), batch,
              flops.forward * 1e-6, flops.training * 1e-6);
  for (int t : thread_counts) {
    std::printf("fp32 peak at %d thread%s (FMA loop): %.0f GFLOP/s\n", t, t == 1 ? "" : "s", peak[t] * 1e-9);
    report["peak_gflops"][std::to_string(t)] = peak[t] * 1e-9;
  }
  std::printf("%-11s %7s %12s %14s %7s %8s %7s %13s %13s %11s\n", "case", "threads", "xgrad img/s",
              "libtorch img/s", "ratio", "GFLOP/s", "% peak", "xgrad flt/st", "torch flt/st", "xgrad new/st");
  for (int t : thread_counts) {
    for (const Entry& e : entries) {
      if (e.framework != "xgrad") continue;
      const double x = median(e.rate.at(t));
      double lt = NAN;
      double lt_faults = NAN;
      for (const Entry& o : entries) {
        if (o.framework == "libtorch" && o.c.name() == e.c.name()) {
          lt = median(o.rate.at(t));
          lt_faults = median(o.faults.at(t));
        }
      }
      const double ratio = torch ? x / lt : NAN;
      const double gflops = x * (e.c.train ? flops.training : flops.forward) * 1e-9;
      std::printf("%-11s %7d %12.0f %14.0f %7.2f %8.1f %7.1f %13.1f %13.1f %11.0f\n", e.c.name().c_str(), t, x, lt,
                  ratio, gflops, 100 * gflops / (peak[t] * 1e-9), median(e.faults.at(t)), lt_faults,
                  median(e.news.at(t)));
      nlohmann::json row = {{"case", e.c.name()},
                            {"threads", t},
                            {"xgrad_images_per_second", x},
                            {"xgrad_windows", e.rate.at(t)},
                            {"xgrad_minor_faults_per_step", median(e.faults.at(t))},
                            {"xgrad_new_calls_per_step", median(e.news.at(t))},
                            {"xgrad_storage_pool_misses_per_step", median(e.pool_misses.at(t))},
                            {"steps_per_window", e.steps.at(t)},
                            {"xgrad_gflops", gflops},
                            {"xgrad_share_of_peak", gflops / (peak[t] * 1e-9)}};
      if (torch) {
        row["libtorch_images_per_second"] = lt;
        row["libtorch_minor_faults_per_step"] = lt_faults;
        row["ratio"] = ratio;
      }
      report["results"].push_back(row);
    }
  }
  // What BN costs: training with BN as a fraction of the speed without it, per framework and thread count.
  auto rate_of = [&](const std::string& framework, const std::string& name, int t) {
    for (const Entry& e : entries) {
      if (e.framework == framework && e.c.name() == name) return median(e.rate.at(t));
    }
    return double(NAN);
  };
  nlohmann::json bn_cost = nlohmann::json::array();
  for (int t : thread_counts) {
    const double x = rate_of("xgrad", "train_bn", t) / rate_of("xgrad", "train_nobn", t);
    const double lt = rate_of("libtorch", "train_bn", t) / rate_of("libtorch", "train_nobn", t);
    if (std::isnan(x)) continue;
    std::printf("threads %d: training with BN runs at %.0f%% of the speed without (libtorch %.0f%%)\n", t, 100 * x,
                100 * lt);
    bn_cost.push_back({{"threads", t}, {"xgrad_bn_over_nobn", x}, {"libtorch_bn_over_nobn", lt}});
  }
  report["bn_cost"] = bn_cost;
  for (const Entry& e : entries) {
    if (e.c.train) std::fprintf(stderr, "%s %s: last loss %.4f\n", e.framework.c_str(), e.c.name().c_str(),
                                e.runner->last_loss());
  }
  const xgrad::StoragePoolStats pool = xgrad::storage_pool_stats();
  std::printf("peak RSS %.0f MB (the process, both frameworks), current RSS %.0f MB; xgrad storage pool: %lld "
              "misses, %.1f MB held\n", peak_rss_mb(), current_rss_mb(), static_cast<long long>(pool.misses),
              double(pool.bytes_held) / (1 << 20));
  report["peak_rss_mb"] = peak_rss_mb();
  report["current_rss_mb"] = current_rss_mb();
  report["storage_pool"] = {{"hits", pool.hits}, {"misses", pool.misses}, {"bytes_held", pool.bytes_held}};
  if (!report_path.empty()) {
    std::ofstream(report_path) << report.dump(2) << "\n";
    std::fprintf(stderr, "report written to %s\n", report_path.c_str());
  }
  return 0;
}
