// xgrad_bench: training and inference throughput of the reference MNIST network (models/
// reference_networks.hpp), xgrad beside libtorch when it was found, in one process. Windows of the two
// frameworks, of every case and thread count, alternate round after round, so that a load change on the
// machine hits both alike; each figure is the median over the rounds, after a warm-up.
//   xgrad_bench --threads 1,2 --windows 9 --report bench.json
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
#include "bench/runner.hpp"
#include "xgrad/core/storage_pool.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  std::string threads_arg = "1,2", report_path, cases_arg = "train_bn,train_nobn,infer_bn,infer_nobn";
  int windows = 9, batch = 64;
  double window_seconds = 0.4, warmup_seconds = 0.5;
  bool no_torch = false;
  std::string malloc_mode = "tuned";
  CLI::App app("Training and inference throughput of the reference MNIST CNN, xgrad beside libtorch.",
               "xgrad_bench");
  app.add_option("--threads", threads_arg, "Thread counts, comma-separated")->capture_default_str();
  app.add_option("--cases", cases_arg, "Cases, comma-separated")->capture_default_str();
  app.add_option("--windows", windows, "Timed windows per case, framework and thread count")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--window-seconds", window_seconds, "Length of one window")->capture_default_str();
  app.add_option("--warmup-seconds", warmup_seconds, "Warm-up per case and thread count")->capture_default_str();
  app.add_option("--batch", batch, "Batch size")->check(CLI::Range(2, 4096))->capture_default_str();
  app.add_option("--malloc", malloc_mode,
                 "tuned: glibc keeps freed memory (libtorch at its best); default: glibc's own settings")
      ->check(CLI::IsMember({"tuned", "default"}))
      ->capture_default_str();
  app.add_flag("--no-torch", no_torch, "Run xgrad alone even when libtorch is built in");
  app.add_option("--report", report_path, "Write the results as JSON here");
  CLI11_PARSE(app, argc, argv);

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

  const BenchData data = make_bench_data(batch, 8, 42);
  std::vector<Entry> entries;
  std::stringstream case_list(cases_arg);
  for (std::string name; std::getline(case_list, name, ',');) {
    BenchCase c{.train = name.rfind("train", 0) == 0, .batch_norm = name.find("nobn") == std::string::npos,
                .batch = batch};
    if (c.name() != name) {
      std::fprintf(stderr, "xgrad_bench: unknown case '%s' (train_bn, train_nobn, infer_bn, infer_nobn)\n",
                   name.c_str());
      return 2;
    }
    entries.push_back({c, "xgrad", make_xgrad_runner(c, data), {}, {}, {}, {}, {}});
#ifdef XGRAD_BENCH_TORCH
    if (torch) entries.push_back({c, "libtorch", make_torch_runner(c, data), {}, {}, {}, {}, {}});
#endif
  }

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

  nlohmann::json report = {{"batch", batch}, {"windows", windows}, {"window_seconds", window_seconds}, {"malloc", malloc_mode},
                           {"libtorch", torch}, {"results", nlohmann::json::array()}};
  std::printf("%-11s %7s %12s %14s %7s %13s %13s %11s\n", "case", "threads", "xgrad img/s", "libtorch img/s",
              "ratio", "xgrad flt/st", "torch flt/st", "xgrad new/st");
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
      std::printf("%-11s %7d %12.0f %14.0f %7.2f %13.1f %13.1f %11.0f\n", e.c.name().c_str(), t, x, lt, ratio,
                  median(e.faults.at(t)), lt_faults, median(e.news.at(t)));
      nlohmann::json row = {{"case", e.c.name()},
                            {"threads", t},
                            {"xgrad_images_per_second", x},
                            {"xgrad_windows", e.rate.at(t)},
                            {"xgrad_minor_faults_per_step", median(e.faults.at(t))},
                            {"xgrad_new_calls_per_step", median(e.news.at(t))},
                            {"xgrad_storage_pool_misses_per_step", median(e.pool_misses.at(t))},
                            {"steps_per_window", e.steps.at(t)}};
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
