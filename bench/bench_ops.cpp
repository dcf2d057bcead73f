// xgrad_bench_ops: the kernels one by one on the reference network's shapes (batch 64), the fast path
// beside the reference path (im2col + OpenBLAS for convolutions, the portable loops elsewhere), and the
// dense layers' products beside plain cblas_sgemm. Median time per call over repeated windows.
//   xgrad_bench_ops --threads 1,2 --report ops.json
#include <cblas.h>
#include <omp.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "xgrad/core/kernels/batch_norm.hpp"
#include "xgrad/core/kernels/batch_norm_pool.hpp"
#include "xgrad/core/kernels/conv2d.hpp"
#include "xgrad/core/kernels/cpu_features.hpp"
#include "xgrad/core/kernels/gemm.hpp"
#include "xgrad/core/kernels/pool2d.hpp"

using namespace xgrad;
using namespace xgrad::bench;

namespace {

std::vector<float> random_vector(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

// Median seconds per call of f over `windows` windows of about `seconds` each.
double time_call(const std::function<void()>& f, int windows, double seconds) {
  f();  // warm-up, and a first estimate of the call's length
  const double t0 = now_seconds();
  f();
  const double once = std::max(now_seconds() - t0, 1e-7);
  const int reps = std::max(1, int(seconds / once));
  std::vector<double> per_call;
  for (int w = 0; w < windows; ++w) {
    const double start = now_seconds();
    for (int r = 0; r < reps; ++r) f();
    per_call.push_back((now_seconds() - start) / reps);
  }
  return median(per_call);
}

struct Row {
  std::string op, shape, path;
  int threads;
  double microseconds, gflops;  // gflops 0 where not meaningful
};

kernels::Conv2dDims conv_dims(int N, int C, int H, int O) {
  return {.N = N, .C = C, .H = H, .W = H, .O = O, .KH = 3, .KW = 3, .SH = 1, .SW = 1, .PH = 1, .PW = 1,
          .DH = 1, .DW = 1, .OH = H, .OW = H};
}

}  // namespace

int main(int argc, char** argv) {
  std::string threads_arg = "1,2", report_path;
  int windows = 7, batch = 64;
  double window_seconds = 0.1;
  CLI::App app("Per-op kernel timings on the reference network's shapes.", "xgrad_bench_ops");
  app.add_option("--threads", threads_arg, "Thread counts, comma-separated")->capture_default_str();
  app.add_option("--windows", windows, "Timed windows per measurement")->capture_default_str();
  app.add_option("--window-seconds", window_seconds, "Length of one window")->capture_default_str();
  app.add_option("--batch", batch, "Batch size")->capture_default_str();
  app.add_option("--report", report_path, "Write the results as JSON here");
  CLI11_PARSE(app, argc, argv);
  std::vector<int> thread_counts;
  {
    std::stringstream in(threads_arg);
    for (std::string item; std::getline(in, item, ',');) thread_counts.push_back(std::stoi(item));
  }
  const bool avx512 = kernels::cpu_has_avx512();
  std::fprintf(stderr, "xgrad_bench_ops: batch %d, AVX-512 %s\n", batch, avx512 ? "yes" : "no (fast paths off)");
  const int N = batch;
  std::vector<Row> rows;
  auto run = [&](const std::string& op, const std::string& shape, const std::string& path, int threads,
                 double flops, bool fast, const std::function<void()>& f) {
    if (fast && !avx512 && op.rfind("linear", 0) != 0) return;
    kernels::set_fast_paths_enabled(fast);
    const double s = time_call(f, windows, window_seconds);
    rows.push_back({op, shape, path, threads, s * 1e6, flops > 0 ? flops / s * 1e-9 : 0.0});
  };

  for (int T : thread_counts) {
    omp_set_num_threads(T);
    openblas_set_num_threads(T);
    // Convolutions: the two of the reference network.
    for (auto [C, H, O] : {std::tuple{1, 28, 16}, std::tuple{16, 14, 32}}) {
      const kernels::Conv2dDims d = conv_dims(N, C, H, O);
      const std::string shape = "(" + std::to_string(N) + "," + std::to_string(C) + "," + std::to_string(H) + "," +
                                std::to_string(H) + ")->" + std::to_string(O);
      const double flops = 2.0 * N * O * C * 9 * H * H;
      auto x = random_vector(std::size_t(N) * C * H * H, 1), w = random_vector(std::size_t(O) * C * 9, 2);
      auto g = random_vector(std::size_t(N) * O * H * H, 3);
      std::vector<float> out(g.size()), dx(x.size()), dw(w.size());
      kernels::set_fast_paths_enabled(true);
      std::vector<float> xpad(kernels::conv2d_padded_input_size(d)), work(kernels::conv2d_workspace_size(d));
      for (bool fast : {false, true}) {
        const std::string path = fast ? "direct avx512" : "im2col+openblas";
        run("conv2d forward", shape, path, T, flops, fast, [&] {
          if (fast) {
            kernels::conv2d_forward_avx512(out.data(), xpad.data(), x.data(), w.data(), nullptr, work.data(), d);
          } else {
            kernels::conv2d_forward_reference(out.data(), x.data(), w.data(), nullptr, d);
          }
        });
        if (C > 1) {
          run("conv2d backward input", shape, path, T, flops, fast, [&] {
            if (fast) {
              kernels::conv2d_backward_input_avx512(dx.data(), g.data(), w.data(), work.data(), d);
            } else {
              kernels::conv2d_backward_input_reference(dx.data(), g.data(), w.data(), d);
            }
          });
        }
        run("conv2d backward weight", shape, path, T, flops, fast, [&] {
          if (fast) {
            kernels::conv2d_backward_weight_avx512(dw.data(), g.data(), xpad.data(), work.data(), d);
          } else {
            kernels::conv2d_backward_weight_reference(dw.data(), g.data(), x.data(), d);
          }
        });
      }
    }
    // Batch norm over the three BN layers' shapes.
    for (auto [C, HW] : {std::pair{16, 784}, std::pair{32, 196}, std::pair{128, 1}}) {
      const std::string shape = "(" + std::to_string(N) + "," + std::to_string(C) + "," + std::to_string(HW) + ")";
      auto x = random_vector(std::size_t(N) * C * HW, 4), g = random_vector(x.size(), 5);
      std::vector<float> y(x.size()), dx(x.size()), mean(C), var(C), rstd(C), gamma(C, 1.5f), beta(C, 0.5f),
          dgamma(C), dbeta(C);
      for (bool fast : {false, true}) {
        const std::string path = fast ? "avx512" : "portable";
        run("batch_norm forward", shape, path, T, 0, fast, [&] {
          kernels::batch_norm_forward(y.data(), mean.data(), var.data(), rstd.data(), x.data(), gamma.data(),
                                      beta.data(), N, C, HW, 1e-5f);
        });
        run("batch_norm backward", shape, path, T, 0, fast, [&] {
          kernels::batch_norm_backward(dx.data(), dgamma.data(), dbeta.data(), g.data(), x.data(), mean.data(),
                                       rstd.data(), gamma.data(), N, C, HW);
        });
        // With the ReLU after it fused in (BatchNormOptions::fused_relu, as the reference networks run it).
        run("batch_norm+relu forward", shape, path, T, 0, fast, [&] {
          kernels::batch_norm_forward(y.data(), mean.data(), var.data(), rstd.data(), x.data(), gamma.data(),
                                      beta.data(), N, C, HW, 1e-5f, true);
        });
        run("batch_norm+relu backward", shape, path, T, 0, fast, [&] {
          kernels::batch_norm_backward(dx.data(), dgamma.data(), dbeta.data(), g.data(), x.data(), mean.data(),
                                       rstd.data(), gamma.data(), N, C, HW, y.data());
        });
      }
    }
    // Max pooling 2x2 after each conv block.
    for (auto [C, H] : {std::pair{16, 28}, std::pair{32, 14}}) {
      const kernels::Pool2dDims d{.N = N, .C = C, .H = H, .W = H, .KH = 2, .KW = 2, .SH = 2, .SW = 2, .PH = 0,
                                  .PW = 0, .OH = H / 2, .OW = H / 2};
      const std::string shape = "(" + std::to_string(N) + "," + std::to_string(C) + "," + std::to_string(H) + "," +
                                std::to_string(H) + ")";
      auto x = random_vector(std::size_t(N) * C * H * H, 6), g = random_vector(std::size_t(N) * C * H * H / 4, 7);
      std::vector<float> y(g.size()), dx(x.size());
      std::vector<std::int32_t> argmax(g.size());
      for (bool fast : {false, true}) {
        const std::string path = fast ? "avx512" : "portable";
        run("max_pool2d forward", shape, path, T, 0, fast,
            [&] { kernels::max_pool2d_forward(y.data(), argmax.data(), x.data(), d); });
        // One backward for both: a fill and a scatter of the winners, which no vector version beat.
        if (!fast) {
          run("max_pool2d backward", shape, path, T, 0, fast,
              [&] { kernels::max_pool2d_backward(dx.data(), g.data(), argmax.data(), d); });
        }
      }
    }
    // The conv blocks' BatchNorm -> ReLU -> MaxPool2d(2): apart (batch_norm with the ReLU, then the pool;
    // backward: the pool's fill and scatter, then batch_norm's) and fused (batch_norm_pool.hpp, one pass).
    for (auto [C, H] : {std::pair{16, 28}, std::pair{32, 14}}) {
      const std::size_t Nz = N, Cz = C, Hz = H;
      const kernels::Pool2dDims d{.N = N, .C = C, .H = H, .W = H, .KH = 2, .KW = 2, .SH = 2, .SW = 2, .PH = 0,
                                  .PW = 0, .OH = H / 2, .OW = H / 2};
      const std::string shape = "(" + std::to_string(N) + "," + std::to_string(C) + "," + std::to_string(H) + "," +
                                std::to_string(H) + ")";
      auto x = random_vector(Nz * Cz * Hz * Hz, 11), g = random_vector(Nz * Cz * Hz * Hz / 4, 12);
      std::vector<float> y(x.size()), dy(x.size()), dx(x.size()), out(g.size()), mean(C), var(C), rstd(C),
          gamma(C, 1.5f), beta(C, 0.1f), dgamma(C), dbeta(C);
      std::vector<std::int32_t> argmax(g.size());
      for (bool fast : {false, true}) {
        const std::string path = fast ? "avx512" : "portable";
        run("bn+relu+maxpool apart forward", shape, path, T, 0, fast, [&] {
          kernels::batch_norm_forward(y.data(), mean.data(), var.data(), rstd.data(), x.data(), gamma.data(),
                                      beta.data(), Nz, Cz, Hz * Hz, 1e-5f, true);
          kernels::max_pool2d_forward(out.data(), argmax.data(), y.data(), d);
        });
        run("bn+relu+maxpool apart backward", shape, path, T, 0, fast, [&] {
          kernels::max_pool2d_backward(dy.data(), g.data(), argmax.data(), d);
          kernels::batch_norm_backward(dx.data(), dgamma.data(), dbeta.data(), dy.data(), x.data(), mean.data(),
                                       rstd.data(), gamma.data(), Nz, Cz, Hz * Hz, y.data());
        });
        run("bn+relu+maxpool fused forward", shape, path, T, 0, fast, [&] {
          kernels::batch_norm_relu_max_pool_forward(out.data(), argmax.data(), mean.data(), var.data(), rstd.data(),
                                                    x.data(), gamma.data(), beta.data(), Nz, Cz, Hz, Hz, 1e-5f);
        });
        run("bn+relu+maxpool fused backward", shape, path, T, 0, fast, [&] {
          kernels::batch_norm_relu_max_pool_backward(dx.data(), dgamma.data(), dbeta.data(), g.data(), out.data(),
                                                     argmax.data(), x.data(), mean.data(), rstd.data(),
                                                     gamma.data(), Nz, Cz, Hz, Hz);
        });
      }
    }
    // The dense layers' three products, through kernels::gemm (AVX-512 where the CPU has it, else OpenBLAS)
    // and through plain cblas_sgemm.
    for (auto [I, J] : {std::pair{1568, 128}, std::pair{128, 10}}) {
      const std::string shape = "(" + std::to_string(N) + "," + std::to_string(I) + ")x(" + std::to_string(J) + "," +
                                std::to_string(I) + ")^T";
      auto x = random_vector(std::size_t(N) * I, 8), w = random_vector(std::size_t(J) * I, 9);
      auto g = random_vector(std::size_t(N) * J, 10);
      std::vector<float> y(g.size()), dx(x.size()), dw(w.size());
      const double flops = 2.0 * N * I * J;
      run("linear forward", shape, "kernels::gemm", T, flops, true,
          [&] { kernels::gemm(false, true, N, J, I, 1.0f, x.data(), I, w.data(), I, 0.0f, y.data(), J); });
      run("linear forward", shape, "cblas_sgemm", T, flops, false, [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, J, I, 1.0f, x.data(), I, w.data(), I, 0.0f,
                    y.data(), J);
      });
      run("linear backward input", shape, "kernels::gemm", T, flops, true,
          [&] { kernels::gemm(false, false, N, I, J, 1.0f, g.data(), J, w.data(), I, 0.0f, dx.data(), I); });
      run("linear backward input", shape, "cblas_sgemm", T, flops, false, [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, I, J, 1.0f, g.data(), J, w.data(), I, 0.0f,
                    dx.data(), I);
      });
      run("linear backward weight", shape, "kernels::gemm", T, flops, true,
          [&] { kernels::gemm(true, false, J, I, N, 1.0f, g.data(), J, x.data(), I, 0.0f, dw.data(), I); });
      run("linear backward weight", shape, "cblas_sgemm", T, flops, false, [&] {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, J, I, N, 1.0f, g.data(), J, x.data(), I, 0.0f,
                    dw.data(), I);
      });
    }
  }
  kernels::set_fast_paths_enabled(true);

  nlohmann::json report = nlohmann::json::array();
  std::printf("%-24s %-26s %-16s %7s %10s %8s\n", "op", "shape", "path", "threads", "us/call", "GFLOP/s");
  for (const Row& r : rows) {
    std::printf("%-24s %-26s %-16s %7d %10.1f %8s\n", r.op.c_str(), r.shape.c_str(), r.path.c_str(), r.threads,
                r.microseconds, r.gflops > 0 ? std::to_string(int(r.gflops + 0.5)).c_str() : "-");
    report.push_back({{"op", r.op}, {"shape", r.shape}, {"path", r.path}, {"threads", r.threads},
                      {"microseconds", r.microseconds}, {"gflops", r.gflops}});
  }
  if (!report_path.empty()) std::ofstream(report_path) << report.dump(2) << "\n";
  return 0;
}
